"""What this process remembers: windows known to be full until their reset, and an in-memory counter."""

from __future__ import annotations

import threading
import time

from flask import Flask, current_app
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

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


def known_full_until(key: str, amount: int) -> float | None:
    """When ``key``'s window of ``amount`` resets, if this process knows it is full now."""
    return _saturation().full_until(key, amount, time.time())


def remember_full(key: str, amount: int, reset_at: float) -> None:
    """Note that ``key``'s window of ``amount`` is full until ``reset_at``."""
    _saturation().remember(key, amount, reset_at)


def local_limiter() -> FixedWindowRateLimiter:
    """This process's in-memory counter, for requests that must not cost a DynamoDB write."""
    limiter: FixedWindowRateLimiter = current_app.extensions[LOCAL_LIMITER_KEY]
    return limiter


def _saturation() -> Saturation:
    saturation: Saturation = current_app.extensions[SATURATION_KEY]
    return saturation
