"""What process memory decides without a DynamoDB write: windows known full, refused credentials."""

from __future__ import annotations

from flask_limiter import RequestLimit

from handlers.ratelimit.headers import rate_limited
from handlers.ratelimit.saturation import known_full_until, local_limiter, remember_full
from handlers.ratelimit.subject import is_exempt, rate_limit_subject
from handlers.web.context import LocalWindow, request_state


def remember_saturation(limit: RequestLimit) -> None:
    """flask-limiter's ``on_breach``: remember that the application-wide window is full."""
    # Only the application-wide limit: route limits (login) have keys and scopes of their own.
    key = limit.request_args[0] if limit.request_args else ""
    if key == rate_limit_subject().key:
        remember_full(key, limit.limit.amount, limit.window[0])


def check_local_limits() -> None:
    """Decide in process memory what needs no DynamoDB write: known-full windows, refused credentials."""
    if is_exempt():
        return
    subject = rate_limit_subject()
    item = subject.item
    if subject.local:
        local = local_limiter()
        allowed = local.hit(item, subject.key)
        reset_at, remaining = local.get_window_stats(item, subject.key)
        request_state().local_rate_limit = LocalWindow(item.amount, remaining, reset_at)
        if not allowed:
            raise rate_limited(subject, item.amount, reset_at)
        return
    # A tenant flooding past its limit must not become a flood of DynamoDB writes to one item.
    full_until = known_full_until(subject.key, item.amount)
    if full_until is not None:
        raise rate_limited(subject, item.amount, full_until)
