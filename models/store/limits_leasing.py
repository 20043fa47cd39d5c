"""Leased permits: a process takes several permits of a window with one DynamoDB write, then admits from memory.

flask-limiter stays the limiter: this is a ``limits`` strategy (the fixed window's, registered as
``fixed-window-leased``) that flask-limiter calls like any other. With a storage that can lease (the
DynamoDB storage), ``hit`` spends a permit this process already holds, or leases more: one
conditional UpdateItem that adds n to the window's count only while the count stays within the limit,
and takes what is left when less than n is. No window ever admits more than its limit, whatever the
number of processes: every admitted request spends a permit counted in DynamoDB.

The price: permits a process holds are not available to the others until the window ends, so a
window can refuse a request while permits sit unused elsewhere. Lease sizes adapt to keep that small:
a key starts at 1 permit; the next lease doubles when it is needed within 10 seconds of the last one,
halves when it is needed later or when a window ended with permits unused, and never exceeds 32 (or,
for a limit above 32,768, 1/1024 of the limit: a process serving thousands of a big tenant's requests
a second would otherwise write every 32 requests) nor a share of what is left in the window: half while this process is alone in the window, an eighth once
another process has leased from it (the issue's simulation used a quarter; an eighth keeps refusals
with room under 2% at 4 processes, measured by ``make bench``). With any other storage (the in-memory fallback, ``memory://``)
it is the plain fixed window.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from limits import RateLimitItem
from limits.storage import Storage
from limits.strategies import STRATEGIES, FixedWindowRateLimiter
from limits.util import WindowStats

STRATEGY_NAME = "fixed-window-leased"
MAX_LEASE = 32
# A tenant whose limit is far above 32 per window may lease up to this fraction of it at once: a
# process serving thousands of its requests a second would otherwise write every 32 requests.
LARGEST_SHARE_OF_LIMIT = 1024
# The most of what is left in a window one lease takes: alone, half; sharing the window, an eighth.
ALONE_SHARE = 2
CONTENDED_SHARE = 8
# A lease needed again within this many seconds means demand is high: the next one doubles.
BUSY_SECONDS = 10.0
# Leases of this many keys are kept per process; past it, those of ended windows are dropped.
KEYS_KEPT = 10_000


@runtime_checkable
class LeasingStorage(Protocol):
    """A storage that can lease permits of a fixed window (models/store/limits_storage.py's)."""

    def now(self) -> float:
        """The storage's clock."""
        ...

    def lease(self, key: str, expiry: float, wanted: int, limit: int) -> tuple[int, float, int]:
        """(granted, window end, window count after)."""
        ...


@dataclass
class Lease:
    """What this process holds of one key's window."""

    window_end: float = 0.0
    permits: int = 0  # leased and not yet spent
    known_count: int = 0  # the window's count after this process's last lease (every process's permits)
    size: int = 1  # the next lease's size
    leased_at: float = float("-inf")
    # Whether another process leased from this window too (the count grew by more than our leases).
    contended: bool = False


class LeasedFixedWindowRateLimiter(FixedWindowRateLimiter):
    """The fixed window, admitting from permits leased in batches (see the module's docstring)."""

    def __init__(self, storage: Storage) -> None:
        super().__init__(storage)
        # Decided once: an isinstance check against a runtime Protocol costs microseconds per request.
        self._leasing: LeasingStorage | None = storage if isinstance(storage, LeasingStorage) else None
        self._leases: dict[str, Lease] = {}
        self._lock = threading.Lock()
        self.writes = 0  # leases taken (one UpdateItem each), for the benchmark

    @property
    def leases(self) -> bool:
        """True when its storage can lease (else it is the plain fixed window)."""
        return self._leasing is not None

    def forget(self) -> None:
        """Drop every lease this process holds, as if its windows had ended (their permits are lost)."""
        with self._lock:
            self._leases.clear()

    def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        """Spend ``cost`` permits of the window, leasing more when this process holds too few."""
        storage = self._leasing
        if storage is None:
            return super().hit(item, *identifiers, cost=cost)
        key = item.key_for(*identifiers)
        with self._lock:
            now = storage.now()
            lease = self._current(key, now)
            if lease.permits < cost and lease.window_end > now and lease.known_count + cost > item.amount:
                return False  # the window's count only grows: it stays full until it ends, no write needed
            if lease.permits < cost:
                wanted = max(cost - lease.permits, self._next_size(lease, item.amount, now))
                granted, window_end, count = storage.lease(key, item.get_expiry(), wanted, item.amount)
                self.writes += 1
                if window_end != lease.window_end:
                    lease.permits = 0  # a new window: nothing held carries over
                    lease.contended = count > granted
                else:
                    lease.contended = lease.contended or count > lease.known_count + granted
                lease.permits += granted
                lease.window_end, lease.known_count, lease.leased_at = window_end, count, now
            if lease.permits < cost:
                return False
            lease.permits -= cost
            return True

    def test(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        """True when ``cost`` permits could be spent now (held here, or left in the window)."""
        storage = self._leasing
        if storage is not None:
            with self._lock:
                lease = self._leases.get(item.key_for(*identifiers))
                if lease is not None and lease.window_end > storage.now() and lease.permits >= cost:
                    return True
        return super().test(item, *identifiers, cost=cost)

    def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        """(reset, remaining): the room this process can count on, read from no storage.

        While this process is alone in the window (as far as its last lease showed), that is what
        nobody holds (limit - count) plus what it holds: exact. Once another process has leased from
        the window, only the permits this process holds: the others may spend what is not yet
        leased at any moment, so claiming it could overstate the room.
        """
        storage = self._leasing
        if storage is not None:
            with self._lock:
                lease = self._leases.get(item.key_for(*identifiers))
                if lease is not None and lease.window_end > storage.now():
                    remaining = lease.permits if lease.contended else item.amount - lease.known_count + lease.permits
                    return WindowStats(lease.window_end, max(0, remaining))
        return super().get_window_stats(item, *identifiers)

    def _current(self, key: str, now: float) -> Lease:
        lease = self._leases.get(key)
        if lease is None:
            if len(self._leases) >= KEYS_KEPT:
                self._leases = {k: held for k, held in self._leases.items() if held.window_end > now}
            lease = self._leases[key] = Lease()
        elif lease.window_end <= now and lease.window_end:
            if lease.permits > 0:
                lease.size = max(1, lease.size // 2)  # a wasted lease: too big for this process's demand
            lease.permits = 0
        return lease

    @staticmethod
    def _next_size(lease: Lease, limit: int, now: float) -> int:
        largest = max_lease(limit)
        if lease.leased_at != float("-inf"):
            busy = now - lease.leased_at < BUSY_SECONDS
            lease.size = min(largest, lease.size * 2) if busy else max(1, lease.size // 2)
        left = limit - lease.known_count if lease.window_end > now else limit
        # Alone in a window, a process wastes nothing by holding permits; shared, what it holds near the
        # end is what the others are refused, so it takes a smaller share of what is left.
        share = CONTENDED_SHARE if lease.contended else ALONE_SHARE
        return max(1, min(lease.size, largest, left // share))


def max_lease(limit: int) -> int:
    """The most permits one lease takes for a window of ``limit``: 32, or 1/1024 of a larger limit."""
    return max(MAX_LEASE, limit // LARGEST_SHARE_OF_LIMIT)


# flask-limiter picks strategies by name from this table (RATELIMIT_STRATEGY).
STRATEGIES[STRATEGY_NAME] = LeasedFixedWindowRateLimiter
