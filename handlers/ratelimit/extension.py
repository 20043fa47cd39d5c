"""The one flask-limiter instance: an application-wide limit per subject (a tenant, or an IP)."""

from __future__ import annotations

from flask import request
from flask_limiter import Limiter, RequestLimit

from handlers.ratelimit.saturation import remember_full
from handlers.ratelimit.subject import EXEMPT_ENDPOINTS, rate_limit_subject
from handlers.web.context import request_state

# flask-limiter's scope of an application-wide limit: its counters are "<subject>/global/...".
APPLICATION_SCOPE = "global"


def remember_saturation(limit: RequestLimit) -> None:
    """flask-limiter's ``on_breach``: remember that the application-wide window is full."""
    # Only the application-wide limit: route limits (login) have keys and scopes of their own.
    key = limit.request_args[0] if limit.request_args else ""
    if key == rate_limit_subject().key:
        remember_full(key, limit.limit.amount, limit.window[0])


limiter = Limiter(
    key_func=lambda: rate_limit_subject().key,
    application_limits=[lambda: rate_limit_subject().limit],
    # Local subjects were counted in memory by check_local_limits; route limits (login) still apply.
    application_limits_exempt_when=lambda: rate_limit_subject().local,
    # Our after_request writes the headers: flask-limiter would add Retry-After to every response.
    headers_enabled=False,
    # If DynamoDB fails, count in process memory (and log) rather than refuse every request; and a
    # storage error flask-limiter meets after that switch (in-flight requests) is logged, not a 500.
    in_memory_fallback_enabled=True,
    swallow_errors=True,
    on_breach=remember_saturation,
)


@limiter.request_filter
def _exempt() -> bool:
    # Not limited (liveness, the document), or already counted with flask-limiter's strategy (local.py).
    return request.endpoint in EXEMPT_ENDPOINTS or request_state().counted_here
