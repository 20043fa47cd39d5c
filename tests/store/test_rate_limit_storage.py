"""The DynamoDB ``limits`` storage against moto: atomic counts, expiring windows, sliding windows."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import limits.storage.memory
import pytest
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, SlidingWindowCounterRateLimiter

from models.store.limits_storage import DynamoDBStorage
from tests.store.conftest import Clock

pytestmark = pytest.mark.dynamodb_local


def test_the_scheme_is_registered_with_limits(repos):
    assert isinstance(storage_from_string("dynamodb://some-table"), DynamoDBStorage)


class OneCallAtATime:
    """A client proxy giving in-process moto DynamoDB's per-request atomicity (moto does not lock).

    Each call is atomic, as on DynamoDB; calls of different threads still interleave freely, so a
    read-then-write in the storage would lose counts here just as it would on DynamoDB.
    """

    def __init__(self, client) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name):
        method = getattr(self._client, name)

        def call(*args, **kwargs):
            with self._lock:
                return method(*args, **kwargs)

        return call


def test_many_threads_incrementing_one_key_give_the_exact_total(repos, clock):
    storage = DynamoDBStorage(
        f"dynamodb://{repos.settings.table_prefix}rate_limits",
        client_factory=lambda: OneCallAtATime(repos.db.client),
        clock=clock,
    )
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)

    def work() -> None:
        barrier.wait()
        for _ in range(per_thread):
            storage.incr("tenant:acme", 60)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    storage._recent_values().clear()  # read the table, not this thread's last write
    assert storage.get("tenant:acme") == threads * per_thread


def test_a_window_ends_at_its_expiry_and_the_next_starts_from_zero(storage, clock):
    assert storage.incr("k", 60) == 1
    assert storage.incr("k", 60, amount=2) == 3
    assert storage.get_expiry("k") == pytest.approx(int(clock.now) + 60)

    clock.now += 59.9
    assert storage.get("k") == 3
    clock.now += 0.2  # past the end; DynamoDB has not deleted the item yet
    assert storage.get("k") == 0
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == pytest.approx(int(clock.now) + 60)


def test_items_carry_the_ttl_attribute(repos, storage, clock):
    storage.incr("k", 60)
    item = repos.db.client.get_item(TableName=storage.table, Key={"key": {"S": "k"}})["Item"]
    assert float(item["expires_at"]["N"]) == int(clock.now) + 60


def test_fixed_window_strategy_allows_exactly_the_limit(storage):
    limiter, item = FixedWindowRateLimiter(storage), parse("5/minute")
    outcomes = [limiter.hit(item, "tenant:acme") for _ in range(7)]
    assert outcomes == [True] * 5 + [False] * 2
    assert limiter.get_window_stats(item, "tenant:acme").remaining == 0


def test_clear_and_reset(storage):
    storage.incr("a", 60)
    storage.incr("b", 60)
    storage.clear("a")
    storage._recent_values().clear()
    assert storage.get("a") == 0 and storage.get("b") == 1
    assert storage.reset() == 1
    assert storage.get("b") == 0


def test_check_reports_a_missing_table(repos, clock):
    assert DynamoDBStorage("dynamodb://no-such-table", client_factory=lambda: repos.db.client).check() is False
    assert DynamoDBStorage(
        f"dynamodb://{repos.settings.table_prefix}rate_limits", client_factory=lambda: repos.db.client
    ).check()


def sliding_outcomes(storage, monkeypatch, clock, schedule):
    """Hit a 10-per-minute sliding window at each (time, hits) of ``schedule``; the list of outcomes."""
    # limits reads time.time() in its sliding-window helpers: give it the same clock as the storage.
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=clock))
    monkeypatch.setattr(limits.strategies, "time", SimpleNamespace(time=clock))
    limiter, item = SlidingWindowCounterRateLimiter(storage), parse("10/minute")
    outcomes = []
    for at, hits in schedule:
        clock.now = at
        outcomes.append([limiter.hit(item, "tenant:acme") for _ in range(hits)])
    return outcomes


def test_sliding_window_counts_as_limits_defines(repos, monkeypatch):
    # Window 60 s, limit 10: 10 hits late in one window; 15 s into the next the previous window still
    # weighs 10 * 45/60 = 7.5, floored to 7, so 3 more fit; at 45 s in it weighs 2.5 -> 2, so 5 more.
    start = 60 * 30_000_000 + 50
    schedule = [(start, 10), (start + 25, 4), (start + 25 + 30, 6)]
    dynamo_clock = Clock()
    dynamo = DynamoDBStorage(
        f"dynamodb://{repos.settings.table_prefix}rate_limits",
        client_factory=lambda: repos.db.client,
        clock=dynamo_clock,
    )

    ours = sliding_outcomes(dynamo, monkeypatch, dynamo_clock, schedule)
    reference = sliding_outcomes(MemoryStorage(), monkeypatch, Clock(), schedule)

    assert ours == reference
    assert ours == [[True] * 10, [True] * 3 + [False], [True] * 5 + [False]]


def test_sliding_window_reports_the_same_window_as_memory(repos, monkeypatch):
    clock = Clock(60 * 30_000_000 + 10)
    dynamo = DynamoDBStorage(
        f"dynamodb://{repos.settings.table_prefix}rate_limits", client_factory=lambda: repos.db.client, clock=clock
    )
    memory = MemoryStorage()
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=clock))
    for storage in (dynamo, memory):
        for _ in range(4):
            storage.acquire_sliding_window_entry("k", 10, 60)
    clock.now += 60
    assert dynamo.get_sliding_window("k", 60) == pytest.approx(memory.get_sliding_window("k", 60))
