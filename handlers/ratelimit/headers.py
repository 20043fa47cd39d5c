"""The rate-limit headers (X-RateLimit-*, the IETF RateLimit fields, Retry-After), and the 429 decided without flask-limiter.

Beside ``X-RateLimit-*``, every response that carries them carries the HTTPAPI working group's fields
(draft-ietf-httpapi-ratelimit-headers): ``RateLimit-Policy: "<policy>";q=<limit>;w=<window seconds>``
and ``RateLimit: "<policy>";r=<remaining>;t=<seconds to reset>``. The policy names the counter:
``tenant`` (a tenant's per-minute limit), ``ip`` (requests without valid credentials, per client IP),
or a login limit's own scope, ``login-ip`` or ``login-failures`` (docs/api.md).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from flask import Response
from flask_limiter import RequestLimit

from handlers.ratelimit.extension import APPLICATION_SCOPE
from handlers.ratelimit.subject import Subject
from handlers.web.context import request_state
from handlers.web.errors import ApiError

log = logging.getLogger(__name__)


class RateLimited(ApiError):
    """429 without touching the counter: this process already knows the window is full."""

    status = 429
    code = "rate_limited"


def rate_limited(subject: Subject, amount: int, reset_at: float) -> RateLimited:
    """The 429 for ``subject``'s full window, with its headers."""
    limit = subject.limit.replace("/", " per ")
    return RateLimited(
        f"Rate limit exceeded ({limit}); retry after the number of seconds in Retry-After",
        headers=limit_headers(
            amount, 0, reset_at, retry=True, policy=policy_name(subject.key), window=_window(subject)
        ),
    )


def add_rate_limit_headers(response: Response, describe: Callable[[], RequestLimit | None]) -> Response:
    """Describe the window this request counted in: in process memory, or the limit ``describe`` names."""
    if "X-RateLimit-Limit" in response.headers or (response.status_code == 429 and "Retry-After" in response.headers):
        return response  # a 429 decided here (in memory, or a login's slowdown) carries its own
    state = request_state()
    local = state.local_rate_limit
    if local is not None and state.rate_limit_subject is not None:
        # Counted by local.py, in memory or with the leased strategy: always this request's subject.
        amount, remaining, reset_at = local.amount, local.remaining, local.reset_at
        policy, window = policy_name(state.rate_limit_subject.key), _window(state.rate_limit_subject)
    else:
        current = describe()
        if current is None:
            return response
        try:
            reset_at, remaining = current.window
        except Exception:
            log.warning("rate limit headers skipped: the counter could not be read")
            return response
        amount = current.limit.amount
        # flask-limiter's arguments of a limit are (counter key, scope): the scope tells a login limit.
        key, scope = current.request_args[-2:] if len(current.request_args) >= 2 else ("", APPLICATION_SCOPE)
        policy, window = policy_name(key, scope), current.limit.get_expiry()
    # None of these is set yet (checked above): appended in one go, not looked up and set one by one.
    headers = limit_headers(
        amount, remaining, reset_at, retry=response.status_code == 429, policy=policy, window=window
    )
    response.headers.extend(headers)
    return response


def limit_headers(
    amount: int, remaining: int, reset_at: float, *, retry: bool, policy: str, window: int
) -> dict[str, str]:
    """The headers of ``policy``'s ``window``-second window of ``amount``, ``remaining`` left until ``reset_at``."""
    remaining = max(0, remaining)
    # The seconds until the window ends, rounded up: never more than the window itself (a 60 s
    # window never says 61).
    seconds = min(window, max(0, math.ceil(reset_at - time.time())))
    headers = {
        "X-RateLimit-Limit": str(amount),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": str(math.ceil(reset_at)),
        "RateLimit-Policy": f'"{policy}";q={amount};w={window}',
        "RateLimit": f'"{policy}";r={remaining};t={seconds}',
    }
    if retry:
        headers["Retry-After"] = str(max(1, seconds))  # never 0: "now" would invite a retry storm
    return headers


def policy_name(key: str, scope: str = APPLICATION_SCOPE) -> str:
    """The RateLimit-Policy name of a counter: ``tenant`` or ``ip`` for the application-wide limit, else its scope."""
    if scope != APPLICATION_SCOPE:
        return scope  # a login limit: "login-ip" or "login-failures"
    return "tenant" if key.startswith("tenant:") else "ip"  # "ip:..." and "refused:..." both count per IP


def _window(subject: Subject) -> int:
    seconds: int = subject.item.get_expiry()
    return seconds
