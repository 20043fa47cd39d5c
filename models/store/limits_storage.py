"""A ``limits`` storage on DynamoDB (``dynamodb://TABLE``), shared by every process and Lambda instance.

Each counter is one item: ``key`` (the limit key), ``count`` and ``expires_at`` (epoch seconds, also
the table's TTL attribute). Counting is one atomic conditional UpdateItem with ``ADD``; an item past its
``expires_at`` counts as absent, because DynamoDB deletes expired items lazily (up to days later).
Registered with ``limits`` through ``STORAGE_SCHEME``, so ``storage_from_string`` finds it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from math import floor
from typing import Any

from limits.storage import Storage
from limits.storage.base import SlidingWindowCounterSupport, TimestampedSlidingWindow

from models.store.dynamo import conditional_update, is_failed_condition

# How long the outcome of this thread's last write to a key answers reads of it: flask-limiter
# reads the window back right after counting (for the headers), and should not pay a read for it.
RECENT_SECONDS = 1.0
RESET_ATTEMPTS = 5


class DynamoDBStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """Fixed-window and sliding-window-counter rate limit counters in a DynamoDB table."""

    STORAGE_SCHEME = ["dynamodb"]

    def __init__(
        self,
        uri: str,
        wrap_exceptions: bool = False,
        client_factory: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.time,
        region_name: str | None = None,
        **options: Any,
    ) -> None:
        """``uri`` is ``dynamodb://TABLE``; ``client_factory`` shares the app's boto3 client."""
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.table = uri.removeprefix("dynamodb://").strip("/")
        if not self.table:
            raise ValueError("the rate limit storage URI needs a table: dynamodb://TABLE")
        self._client_factory = client_factory
        self._client: Any = None
        self._region_name = region_name
        self._clock = clock
        self._recent = threading.local()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        """botocore's errors: what ``wrap_exceptions`` turns into ``limits.errors.StorageError``."""
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)

    @property
    def client(self) -> Any:
        """The boto3 client, created on first use."""
        if self._client is None:
            if self._client_factory is not None:
                self._client = self._client_factory()
            else:
                import boto3

                self._client = boto3.client("dynamodb", region_name=self._region_name)
        return self._client

    # Fixed window ---------------------------------------------------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Add ``amount`` to the counter, starting a new window of ``expiry`` seconds if none is open."""
        for _ in range(RESET_ATTEMPTS):
            now = self._clock()
            response = conditional_update(
                self.client,
                TableName=self.table,
                Key={"key": {"S": key}},
                UpdateExpression="ADD #count :amount SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(expires_at) OR expires_at > :now",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={
                    ":amount": {"N": str(amount)},
                    ":expires": {"N": _number(_window_end(now, expiry))},
                    ":now": {"N": _number(now)},
                },
                ReturnValues="ALL_NEW",
            )
            if response is None:
                # The window ended but DynamoDB has not deleted its item yet: start a new one.
                if self._restart_window(key, expiry, amount, now):
                    return self._remember(key, amount, _window_end(now, expiry))
                continue
            attributes = response["Attributes"]
            return self._remember(key, int(attributes["count"]["N"]), float(attributes["expires_at"]["N"]))
        raise RuntimeError(f"could not count {key!r}: its window kept changing")

    def now(self) -> float:
        """The storage's clock (epoch seconds): windows start and end by it."""
        return self._clock()

    def lease(self, key: str, expiry: float, wanted: int, limit: int) -> tuple[int, float, int]:
        """Take up to ``wanted`` permits of the open window without the count passing ``limit``.

        One conditional UpdateItem (``ADD count :n`` only while ``count + n <= limit``); when the
        window has less room, DynamoDB returns the item as it was and the room that is left is taken
        instead. Returns (permits granted, the window's end, the window's count after this lease).
        """
        take = min(wanted, limit)
        for _ in range(RESET_ATTEMPTS * 2):
            if take <= 0:
                break
            now = self._clock()
            granted, old = self._add_if_room(key, expiry, take, limit, now)
            if granted is not None:
                count, expires_at = granted
                self._remember(key, count, expires_at)
                return take, expires_at, count
            if old is None:
                continue  # the item vanished meanwhile (a reset): try again
            old_count = int(old["count"]["N"]) if "count" in old else 0
            old_end = float(old["expires_at"]["N"]) if "expires_at" in old else now
            if old_end <= now:
                # The window ended but DynamoDB has not deleted its item yet: start a new one.
                if self._restart_window(key, expiry, take, now):
                    end = _window_end(now, expiry)
                    self._remember(key, take, end)
                    return take, end, take
                continue
            room = limit - old_count
            if room <= 0:
                self._remember(key, old_count, old_end)
                return 0, old_end, old_count
            take = min(take, room)
        count, expires_at = self._read(key)
        return 0, expires_at, count

    def _add_if_room(
        self, key: str, expiry: float, take: int, limit: int, now: float
    ) -> tuple[tuple[int, float] | None, dict[str, Any] | None]:
        try:
            attributes = self.client.update_item(
                TableName=self.table,
                Key={"key": {"S": key}},
                UpdateExpression="ADD #count :take SET expires_at = if_not_exists(expires_at, :expires)",
                ConditionExpression="attribute_not_exists(expires_at) OR (expires_at > :now AND #count <= :highest)",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={
                    ":take": {"N": str(take)},
                    ":expires": {"N": _number(_window_end(now, expiry))},
                    ":now": {"N": _number(now)},
                    ":highest": {"N": str(limit - take)},
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except Exception as exc:
            if not is_failed_condition(exc):
                raise
            old = getattr(exc, "response", {}).get("Item")
            return None, old if isinstance(old, dict) else None
        return (int(attributes["count"]["N"]), float(attributes["expires_at"]["N"])), None

    def get(self, key: str) -> int:
        """The counter of the open window (0 when none is open)."""
        return self._read(key)[0]

    def get_expiry(self, key: str) -> float:
        """When the open window ends (now, when none is open)."""
        return self._read(key)[1]

    def clear(self, key: str) -> None:
        """Forget a counter."""
        self.client.delete_item(TableName=self.table, Key={"key": {"S": key}})
        self._recent_values().pop(key, None)

    def check(self) -> bool:
        """True when the table answers."""
        try:
            self.client.describe_table(TableName=self.table)
        except Exception:
            return False
        return True

    def reset(self) -> int | None:
        """Delete every counter (tests and operators); return how many there were."""
        deleted = 0
        for page in self.client.get_paginator("scan").paginate(
            TableName=self.table, ProjectionExpression="#k", ExpressionAttributeNames={"#k": "key"}
        ):
            for item in page.get("Items", []):
                self.client.delete_item(TableName=self.table, Key={"key": item["key"]})
                deleted += 1
        self._recent_values().clear()
        return deleted

    # Sliding window counter -----------------------------------------------------------------

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count ``amount`` in the current window if the weighted count stays within ``limit``."""
        if amount > limit:
            return False
        now = self._clock()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous_count = self._read(previous_key)[0]
        weighted_previous = previous_count * self._previous_ttl(previous_count, expiry, now) / expiry
        # The weighted total floors to previous share + current count; the condition makes the check
        # and the increment one atomic step, so concurrent writers cannot both squeeze in.
        highest_current = limit - amount - floor(weighted_previous)
        if highest_current < 0:
            return False
        response = conditional_update(
            self.client,
            TableName=self.table,
            Key={"key": {"S": current_key}},
            UpdateExpression="ADD #count :amount SET expires_at = if_not_exists(expires_at, :expires)",
            ConditionExpression="attribute_not_exists(#count) OR #count <= :highest",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues={
                ":amount": {"N": str(amount)},
                ":expires": {"N": _number(now + 2 * expiry)},
                ":highest": {"N": str(highest_current)},
            },
            ReturnValues="ALL_NEW",
        )
        if response is None:
            return False
        attributes = response["Attributes"]
        self._remember(current_key, int(attributes["count"]["N"]), float(attributes["expires_at"]["N"]))
        return True

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        """(previous count, previous TTL, current count, current TTL), as ``limits`` defines them."""
        now = self._clock()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous_count, current_count = self._read(previous_key)[0], self._read(current_key)[0]
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous_count, self._previous_ttl(previous_count, expiry, now), current_count, current_ttl

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        """Forget both windows of a sliding-window key."""
        for window_key in self.sliding_window_keys(key, expiry, self._clock()):
            self.clear(window_key)

    # Internals ------------------------------------------------------------------------------

    @staticmethod
    def _previous_ttl(previous_count: int, expiry: int, now: float) -> float:
        return 0.0 if previous_count == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry

    def _restart_window(self, key: str, expiry: float, amount: int, now: float) -> bool:
        restarted = conditional_update(
            self.client,
            TableName=self.table,
            Key={"key": {"S": key}},
            UpdateExpression="SET #count = :amount, expires_at = :expires",
            # Only one process may restart a window; the others count in the new one.
            ConditionExpression="expires_at <= :now",
            ExpressionAttributeNames={"#count": "count"},
            ExpressionAttributeValues={
                ":amount": {"N": str(amount)},
                ":expires": {"N": _number(_window_end(now, expiry))},
                ":now": {"N": _number(now)},
            },
        )
        return restarted is not None

    def _read(self, key: str) -> tuple[int, float]:
        now = self._clock()
        recent = self._recent_values().get(key)
        if recent is not None and now - recent[2] < RECENT_SECONDS:
            count, expires_at = recent[0], recent[1]
        else:
            item = self.client.get_item(TableName=self.table, Key={"key": {"S": key}}, ConsistentRead=True).get("Item")
            count = int(item["count"]["N"]) if item else 0
            expires_at = float(item["expires_at"]["N"]) if item else now
        if expires_at <= now:
            return 0, now
        return count, expires_at

    def _remember(self, key: str, count: int, expires_at: float) -> int:
        self._recent_values()[key] = (count, expires_at, self._clock())
        return count

    def _recent_values(self) -> dict[str, tuple[int, float, float]]:
        values = getattr(self._recent, "values", None)
        if values is None:
            values = self._recent.values = {}
        return values


def _window_end(now: float, expiry: float) -> float:
    # Windows start on a whole second, so X-RateLimit-Reset is exact and never more than
    # ``expiry`` seconds ahead.
    return floor(now) + expiry


def _number(value: float) -> str:
    return str(Decimal(str(round(value, 3))))
