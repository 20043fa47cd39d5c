"""Leased permits (issue 14): fewer DynamoDB writes, and still never more than the limit in a window."""

from __future__ import annotations

import multiprocessing
import secrets
import time
from collections import Counter

import pytest
from limits import parse
from limits.storage import MemoryStorage

from models.store.limits_leasing import LeasedFixedWindowRateLimiter
from models.store.limits_storage import DynamoDBStorage
from models.store.tables import RATE_LIMITS
from tests.conftest import ON_DYNAMODB_LOCAL
from tests.store.leasing_worker import hammer

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture
def strategy(storage) -> LeasedFixedWindowRateLimiter:
    return LeasedFixedWindowRateLimiter(storage)


def test_one_process_at_its_limit_writes_a_fraction_and_admits_exactly_the_limit(strategy, dynamodb_calls, clock):
    item = parse("200/minute")
    admitted = 0
    for _ in range(250):
        admitted += strategy.hit(item, "tenant:acme")
        clock.now += 0.1
    assert admitted == 200
    writes = dynamodb_calls.count("UpdateItem:rate_limits")
    assert writes <= 0.2 * 200, writes  # one write per lease, not per request
    assert strategy.get_window_stats(item, "tenant:acme").remaining == 0


def test_remaining_counts_down_exactly_in_one_process(strategy):
    item = parse("200/minute")
    remaining = []
    for _ in range(40):
        assert strategy.hit(item, "tenant:acme")
        remaining.append(strategy.get_window_stats(item, "tenant:acme").remaining)
    assert remaining == list(range(199, 159, -1))


def test_permits_do_not_carry_into_the_next_window(strategy, clock):
    item = parse("10/minute")
    for _ in range(6):  # leases of 1, 2, 2 (a quarter of what is left) ... some permits are held
        assert strategy.hit(item, "tenant:acme")
    clock.now += 61  # the window ends; the item is not deleted yet
    assert sum(strategy.hit(item, "tenant:acme") for _ in range(15)) == 10  # a full window again, no more
    reset, remaining = strategy.get_window_stats(item, "tenant:acme")
    assert remaining == 0 and reset > clock.now


def test_another_process_holding_permits_never_lets_a_window_pass_its_limit(repos, clock):
    table = f"{repos.settings.table_prefix}rate_limits"
    processes = [
        LeasedFixedWindowRateLimiter(
            DynamoDBStorage(f"dynamodb://{table}", client_factory=lambda: repos.db.client, clock=clock)
        )
        for _ in range(3)
    ]
    item = parse("50/minute")
    admitted = 0
    for round_ in range(120):
        process = processes[round_ % 3]
        admitted += process.hit(item, "tenant:acme")
        # X-RateLimit-Remaining never claims more room than the window really has left, once a
        # process has seen the others (before, it can only know what its own lease showed).
        if process._leases["LIMITER/tenant:acme/50/1/minute"].contended:
            assert process.get_window_stats(item, "tenant:acme").remaining <= 50 - admitted
        clock.now += 0.05
    assert 45 <= admitted <= 50  # never over; a few permits may sit unused in another process


def test_without_a_leasing_storage_it_is_the_plain_fixed_window():
    strategy = LeasedFixedWindowRateLimiter(MemoryStorage())
    item = parse("3/minute")
    assert [strategy.hit(item, "k") for _ in range(4)] == [True, True, True, False]
    assert strategy.get_window_stats(item, "k").remaining == 0


@pytest.mark.slow
@pytest.mark.skipif(
    not ON_DYNAMODB_LOCAL, reason="needs DynamoDB's atomic conditional writes: make test's DynamoDB Local pass"
)
def test_four_processes_never_admit_more_than_the_limit_in_any_window(repos):
    # Real processes on DynamoDB Local, 2-second windows of 40, for 7 seconds: 4 windows or more.
    endpoint = repos.db.client.meta.endpoint_url
    table = f"{repos.settings.table_prefix}race-{secrets.token_hex(3)}"
    repos.db.client.create_table(**RATE_LIMITS.create_table_request(table))
    # The workers use the suite's dummy credentials: DynamoDB Local keeps one database per key and region.
    start_at = time.time() + 3  # every process starts together, after its imports
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.starmap(hammer, [(endpoint, table, "40 per 2 seconds", 7.0, start_at)] * 4)

    per_window: Counter[float] = Counter()
    for result in results:
        for when, window_end in result["admitted"]:
            assert window_end - 2 <= when < window_end + 0.05  # spent inside the window it counted in
            per_window[window_end] += 1
    assert len(per_window) >= 3
    assert max(per_window.values()) <= 40, per_window
    total = sum(per_window.values())
    writes = sum(result["writes"] for result in results)
    print(
        f"\nleasing, 4 processes: {total} admitted in {len(per_window)} windows, {writes} writes ({writes / total:.2f} per admitted)"
    )


def test_a_limit_far_above_the_traffic_leases_bigger_batches_and_still_stops_at_the_limit(strategy, dynamodb_calls):
    # 1/1024 of a 100,000 limit: leases grow past 32 (to 97), so 5,000 requests take few writes.
    item = parse("100000/minute")
    assert all(strategy.hit(item, "tenant:big") for _ in range(5_000))
    writes = dynamodb_calls.count("UpdateItem:rate_limits")
    assert writes <= 60, writes  # 7 leases ramp up to 64, then 97 each; at a cap of 32 it would be 161
    assert strategy.get_window_stats(item, "tenant:big").remaining == 100_000 - 5_000


def test_a_small_limit_keeps_leases_of_at_most_32(strategy, dynamodb_calls, clock):
    item = parse("30000/minute")  # 30000 // 1024 = 29: the cap stays 32
    for _ in range(3_200):
        assert strategy.hit(item, "tenant:acme")
    assert dynamodb_calls.count("UpdateItem:rate_limits") >= 3_200 // 32
