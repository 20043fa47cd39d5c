"""Leased permits: DynamoDB writes per admitted request, and requests refused while the window had room.

The real strategy (models/store/limits_leasing.py) and the real DynamoDB storage, on moto in this
process, with a simulated clock so that many 60-second windows take seconds: one tenant at 200 a
minute, its requests spread at random over 1 or 4 processes (each its own strategy, as each gunicorn
worker or Lambda instance is), at 150% and 300% of its limit. "Refused with room" counts refusals made
while the window's admitted total was still under the limit (another process held the permits).
"""

from __future__ import annotations

import argparse
import random
from typing import Any

from bench.common import Figure, clean_env, run_worker, section

LIMIT = 200
WINDOWS = 5
TARGET_WRITES = 0.20
TARGET_REFUSED = 0.02


def run(args: argparse.Namespace) -> list[Figure]:
    section("9. Leased permits: DynamoDB writes per admitted request (one tenant at its limit, moto)")
    result, _log = run_worker("bench.leasing", ["--quick"] if args.quick else [], clean_env())
    rows = []
    for case in result["cases"]:
        label = f"{case['processes']} process(es), {case['load']:.0%} of the limit"
        print(
            f"   {label:34s} admitted {case['admitted']:5d}, writes {case['writes']:4d} "
            f"({case['writes_per_admitted']:.3f}/admitted), refused with room {case['refused_with_room']:.2%}, "
            f"most in a window {case['most_in_a_window']}"
        )
        if case["load"] == 1.5:
            rows.append(
                Figure(
                    f"DynamoDB writes per admitted request, {case['processes']} process(es), at the limit",
                    f"{case['writes_per_admitted']:.3f}",
                    f"<= {TARGET_WRITES:.2f}",
                    case["writes_per_admitted"] <= TARGET_WRITES and case["most_in_a_window"] <= LIMIT,
                )
            )
            rows.append(
                Figure(
                    f"Refused while the window had room, {case['processes']} process(es)",
                    f"{case['refused_with_room']:.2%}",
                    f"<= {TARGET_REFUSED:.0%}",
                    case["refused_with_room"] <= TARGET_REFUSED,
                )
            )
    return rows


def _worker(quick: bool) -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        return {
            "cases": [
                _simulate(processes, load) for processes in (1, 4) for load in (1.5, 3.0) if not quick or load == 1.5
            ]
        }


def _simulate_in_moto(processes: int, load: float) -> dict[str, Any]:
    """One case of the simulation, on moto in this process (for the cost model)."""
    from moto import mock_aws

    with mock_aws():
        return _simulate(processes, load)


def _simulate(processes: int, load: float) -> dict[str, Any]:
    import boto3
    from limits import parse

    from models.store.limits_leasing import LeasedFixedWindowRateLimiter
    from models.store.limits_storage import DynamoDBStorage
    from models.store.tables import RATE_LIMITS

    client = boto3.client("dynamodb", region_name="us-east-1")
    table = f"bench-leasing-{processes}-{int(load * 10)}"
    client.create_table(**RATE_LIMITS.create_table_request(table))
    now = [1_800_000_000.0]
    strategies = [
        LeasedFixedWindowRateLimiter(
            DynamoDBStorage(f"dynamodb://{table}", client_factory=lambda: client, clock=lambda: now[0])
        )
        for _ in range(processes)
    ]
    item = parse(f"{LIMIT}/minute")
    rng = random.Random(42)  # noqa: S311 - a reproducible simulation, not a secret
    per_window: dict[int, int] = {}
    admitted = refused_with_room = requests = 0
    interval = 60.0 / (LIMIT * load)
    start = now[0]
    while now[0] < start + WINDOWS * 60:
        window = int((now[0] - start) // 60)
        requests += 1
        if rng.choice(strategies).hit(item, "tenant:acme"):
            admitted += 1
            per_window[window] = per_window.get(window, 0) + 1
        elif per_window.get(window, 0) < LIMIT:
            refused_with_room += 1
        now[0] += rng.expovariate(1 / interval)
    writes = sum(strategy.writes for strategy in strategies)
    return {
        "processes": processes,
        "load": load,
        "admitted": admitted,
        "writes": writes,
        "writes_per_admitted": writes / admitted,
        "refused_with_room": refused_with_room / requests,
        "most_in_a_window": max(per_window.values()),
    }


if __name__ == "__main__":
    import json
    import sys

    if sys.argv[1:2] == ["--worker"]:
        print(json.dumps(_worker("--quick" in sys.argv)))
