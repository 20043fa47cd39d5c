"""One process of the leasing concurrency test: hits one key as fast as it can, records what it admitted."""

from __future__ import annotations

import time

import boto3
from limits import parse

from models.store.limits_leasing import LeasedFixedWindowRateLimiter
from models.store.limits_storage import DynamoDBStorage


def hammer(endpoint: str, table: str, limit: str, seconds: float, start_at: float) -> dict[str, object]:
    """Hit ``limit`` on one key for ``seconds`` from ``start_at``; every admission with its window."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    storage = DynamoDBStorage(f"dynamodb://{table}", client_factory=lambda: client)
    strategy = LeasedFixedWindowRateLimiter(storage)
    item = parse(limit)
    admitted: list[tuple[float, float]] = []  # (when, the end of the window it counted in)
    refused = 0
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < start_at + seconds:
        if strategy.hit(item, "tenant:race"):
            reset, _remaining = strategy.get_window_stats(item, "tenant:race")
            admitted.append((time.time(), reset))
        else:
            refused += 1
            time.sleep(0.002)
    return {"admitted": admitted, "refused": refused, "writes": strategy.writes}
