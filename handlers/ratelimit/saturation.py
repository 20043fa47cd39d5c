"""What process memory can decide without a DynamoDB write: windows known full, refused credentials."""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app
from flask_limiter import RequestLimit
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from handlers.ratelimit.headers import rate_limited
from handlers.ratelimit.subject import is_exempt, rate_limit_subject
from handlers.web.context import LocalWindow, request_state

SATURATION_KEY = "nativemessage.saturated"
LOCAL_LIMITER_KEY = "nativemessage.local_limiter"


class Saturation:
    """Per process: subjects whose window is known to be full, until its reset."""

    def __init__(self) -> None:
        self._until: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, amount: int, reset_at: float) -> None:
        """Note that ``key``'s window of ``amount`` is full until ``reset_at``."""
        with self._lock:
            self._until[key] = (amount, reset_at)

    def full_until(self, key: str, amount: int, now: float) -> float | None:
        """The reset time if ``key``'s window of ``amount`` is known full at ``now``."""
        entry = self._until.get(key)
        if entry is None or entry[0] != amount or entry[1] <= now:
            return None
        return entry[1]


def init_saturation(app: Flask) -> None:
    """Give ``app`` its per-process memory of full windows and its in-memory counter."""
    app.extensions[SATURATION_KEY] = Saturation()
    app.extensions[LOCAL_LIMITER_KEY] = FixedWindowRateLimiter(MemoryStorage())


def remember_saturation(limit: RequestLimit) -> None:
    """flask-limiter's ``on_breach``: remember that the application-wide window is full."""
    # Only the application-wide limit: route limits (login) have keys and scopes of their own.
    key = limit.request_args[0] if limit.request_args else ""
    if key == rate_limit_subject().key:
        _saturation().remember(key, limit.limit.amount, limit.window[0])


def check_local_limits() -> None:
    """Decide in process memory what needs no DynamoDB write: known-full windows, refused credentials."""
    if is_exempt():
        return
    subject = rate_limit_subject()
    item = subject.item
    if subject.local:
        local: FixedWindowRateLimiter = current_app.extensions[LOCAL_LIMITER_KEY]
        allowed = local.hit(item, subject.key)
        reset_at, remaining = local.get_window_stats(item, subject.key)
        request_state().local_rate_limit = LocalWindow(item.amount, remaining, reset_at)
        if not allowed:
            raise rate_limited(subject, item.amount, reset_at)
        return
    # A tenant flooding past its limit must not become a flood of DynamoDB writes to one item.
    full_until = _saturation().full_until(subject.key, item.amount, time.time())
    if full_until is not None:
        raise rate_limited(subject, item.amount, full_until)


def _saturation() -> Saturation:
    saturation: Saturation = current_app.extensions[SATURATION_KEY]
    return saturation
