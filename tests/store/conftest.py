"""What the store tests share: a clock they move by hand, and the limits storage on the app's table."""

from __future__ import annotations

import pytest

from models.store.limits_storage import DynamoDBStorage


class Clock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """A clock for the limits storage (tests advance ``clock.now``)."""
    return Clock()


@pytest.fixture
def storage(repos, clock) -> DynamoDBStorage:
    """The DynamoDB limits storage on the test app's rate_limits table, on ``clock``."""
    return DynamoDBStorage(
        f"dynamodb://{repos.settings.table_prefix}rate_limits", client_factory=lambda: repos.db.client, clock=clock
    )
