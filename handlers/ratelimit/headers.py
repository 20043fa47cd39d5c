"""The X-RateLimit-* and Retry-After headers, and the 429 decided without flask-limiter."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable

from flask import Response
from flask_limiter import RequestLimit

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
        headers=limit_headers(amount, 0, reset_at, retry=True),
    )


def add_rate_limit_headers(response: Response, describe: Callable[[], RequestLimit | None]) -> Response:
    """Describe the window this request counted in: in process memory, or the limit ``describe`` names."""
    if "X-RateLimit-Limit" in response.headers or (response.status_code == 429 and "Retry-After" in response.headers):
        return response  # a 429 decided here (in memory, or a login's slowdown) carries its own
    local = request_state().local_rate_limit
    if local is not None:
        amount, remaining, reset_at = local.amount, local.remaining, local.reset_at
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
    # None of these is set yet (checked above): appended in one go, not looked up and set one by one.
    response.headers.extend(limit_headers(amount, remaining, reset_at, retry=response.status_code == 429))
    return response


def limit_headers(amount: int, remaining: int, reset_at: float, *, retry: bool) -> dict[str, str]:
    """The headers of a window of ``amount`` with ``remaining`` left until ``reset_at`` (epoch seconds)."""
    reset = math.ceil(reset_at)
    headers = {
        "X-RateLimit-Limit": str(amount),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": str(reset),
    }
    if retry:
        # The seconds until the window ends, rounded up: never more than the window itself (a 60 s
        # window never says 61), never 0.
        headers["Retry-After"] = str(max(1, math.ceil(reset_at - time.time())))
    return headers
