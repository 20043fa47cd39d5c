"""Pages of one kind of a tenant's items (users, API keys) through the accounts table's ``by_tenant`` index."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from models.store.dynamo import TENANT_INDEX, DynamoDB, from_item, to_item, translate_errors

T = TypeVar("T")

# The most index items one page may read when a filter drops some (another member's keys, another
# status): a few hundred kilobytes, some 50 read units at most. A page that reaches it before it is
# full ends there, with a cursor that carries on from the last item read.
MAX_ITEMS_READ = 1000


@dataclass(frozen=True)
class IndexPage(Generic[T]):
    """Up to ``limit`` items in reading order; ``resume_after`` is the id the next page starts after (None: the end)."""

    items: list[T]
    resume_after: str | None


def page_tenant_index(
    db: DynamoDB,
    table: str,
    tenant_id: str,
    sort_prefix: str,
    convert: Callable[[dict[str, Any]], T],
    *,
    limit: int,
    after: str | None = None,
    descending: bool = False,
    keep: Callable[[T], bool] | None = None,
) -> IndexPage[T]:
    """Up to ``limit`` items (sort key ``sort_prefix`` + id) that ``keep`` accepts, after the id ``after`` in reading order.

    Reads DynamoDB pages (``Limit`` and ``ExclusiveStartKey``) until it has one item more than the page
    (so a full last page says there is no next one), reaches the end, or has read ``MAX_ITEMS_READ`` items.
    """
    values = {":pk": f"TENANT#{tenant_id}"}
    if after is None:
        condition = "begins_with(gsi1sk, :prefix)"
        values[":prefix"] = sort_prefix
    else:
        # A key condition takes one range test: BETWEEN the cursor's item (inclusive, so skipped
        # below) and the end of the prefix. The cursor holds an id, never the base table's key,
        # which for an API key is its digest and must not leave the service.
        condition = "gsi1sk BETWEEN :low AND :high"
        position, end = f"{sort_prefix}{after}", _prefix_end(sort_prefix)
        values[":low"], values[":high"] = (sort_prefix, position) if descending else (position, end)
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": TENANT_INDEX,
        "KeyConditionExpression": f"gsi1pk = :pk AND {condition}",
        "ExpressionAttributeValues": to_item(values),
        "ScanIndexForward": not descending,
    }
    found: list[tuple[str, T]] = []
    read, last_read, max_read = 0, after, MAX_ITEMS_READ
    batch = limit + 1 + (after is not None)
    while True:
        request["Limit"] = min(batch, max_read - read)
        with translate_errors():
            response = db.client.query(**request)
        for raw in response.get("Items", []):
            read += 1
            item_id = str(raw["gsi1sk"]["S"]).removeprefix(sort_prefix)
            if item_id == after:
                continue
            value = convert(from_item(raw))
            if keep is None or keep(value):
                if len(found) == limit:
                    return IndexPage([kept for _, kept in found], found[-1][0])
                found.append((item_id, value))
            last_read = item_id
        last_key = response.get("LastEvaluatedKey")
        if last_key is None:
            return IndexPage([kept for _, kept in found], None)
        if read >= max_read:
            return IndexPage([kept for _, kept in found], last_read)
        request["ExclusiveStartKey"] = last_key
        # Few items pass the filter: read more at a time, up to the bound.
        batch *= 2


def _prefix_end(prefix: str) -> str:
    # The smallest string above every string that starts with ``prefix`` ("KEY#" -> "KEY$").
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)
