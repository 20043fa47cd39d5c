"""The security audit log: who did what to which account or key, one partition per tenant, newest first.

An event is written in the same DynamoDB transaction as the change it records (the repositories take
it as ``audit=`` and add ``AuditRepository.put_action``), so there is never a change without its
record nor a record without its change. Events not tied to a write (a login) are put on their own.
Events expire by DynamoDB's TTL after the configured retention (400 days by default).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Callable

from ulid import ULID

from models.audit_record import (
    ACTIONS,
    EVENT_ID_PREFIX,
    USER_AGENT_MAX,
    Actor,
    AuditEvent,
    AuditPage,
    Origin,
)
from models.clock import iso
from models.store.dynamo import (
    DynamoDB,
    TransactionCancelled,
    from_item,
    is_failed_condition,
    to_item,
    transact_write,
    translate_errors,
)
from models.store.tables import AUDIT_EVENTS, TTL_ATTRIBUTE

# A page with filters reads at most this many DynamoDB pages before answering with what it found.
FILTERED_READS = 10


class AuditRepository:
    """The ``audit_events`` table: tenant_id (partition), event_id (sort: time-ordered ULIDs)."""

    def __init__(self, db: DynamoDB, now: Callable[[], datetime], retention_days: int) -> None:
        self._db = db
        self._now = now
        self._retention = timedelta(days=retention_days)
        self._table = db.table_name(AUDIT_EVENTS.name)

    def event(
        self,
        tenant_id: str,
        action: str,
        actor: Actor,
        origin: Origin,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
        outcome: str = "success",
        details: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """A new event of ``tenant_id``, stamped now; ValueError for an action the contract does not list."""
        if action not in ACTIONS:
            raise ValueError(f"unknown audit action {action!r}")
        now = self._now()
        return AuditEvent(
            event_id=f"{EVENT_ID_PREFIX}{ULID.from_datetime(now)}",
            tenant_id=tenant_id,
            time=iso(now),
            action=action,
            actor=actor,
            origin=Origin(origin.ip, (origin.user_agent or "")[:USER_AGENT_MAX] or None, origin.request_id),
            target_type=target_type,
            target_id=target_id,
            outcome=outcome,
            details=dict(details or {}),
            expires_at=int((now + self._retention).timestamp()),
        )

    def record(self, event: AuditEvent) -> None:
        """Write an event that records no write of its own (a login, succeeded or failed)."""
        with translate_errors():
            self._db.client.put_item(**put_actions(self._db, [event])[0]["Put"])

    def page(
        self,
        tenant_id: str,
        *,
        limit: int,
        after_id: str | None = None,
        action: str | None = None,
        actor_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> AuditPage:
        """Up to ``limit`` events of the tenant, newest first, older than ``after_id``, matching the filters.

        Time bounds are a key condition (event ids sort by time); action and actor are filters, so a
        page reads on until it has ``limit`` events or ``FILTERED_READS`` DynamoDB pages.
        """
        conditions = ["tenant_id = :tenant"]
        values: dict[str, Any] = {":tenant": tenant_id}
        low = _bound(since, lowest=True) if since else EVENT_ID_PREFIX
        high = _bound(until, lowest=False) if until else EVENT_ID_PREFIX + "~"
        conditions.append("event_id BETWEEN :low AND :high")
        values.update({":low": low, ":high": high})
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": " AND ".join(conditions),
            "ScanIndexForward": False,
        }
        filters = []
        if action:
            filters.append("#action = :action")
            values[":action"] = action
            request["ExpressionAttributeNames"] = {"#action": "action"}  # "action" is a reserved word
        if actor_id:
            filters.append("actor_user_id = :actor")
            values[":actor"] = actor_id
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
        request["ExpressionAttributeValues"] = to_item(values)
        start = to_item({"tenant_id": tenant_id, "event_id": after_id}) if after_id else None
        found: list[AuditEvent] = []
        for _ in range(FILTERED_READS):
            wanted = limit + 1 - len(found)
            # With filters most items read may not match: read in bigger pages, keep what is asked.
            request["Limit"] = max(wanted, 100) if filters else wanted
            if start:
                request["ExclusiveStartKey"] = start
            with translate_errors():
                response = self._db.client.query(**request)
            found.extend(_event(from_item(item)) for item in response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if len(found) > limit or not start:
                break
        if len(found) > limit:
            return AuditPage(found[:limit], found[limit - 1].event_id)  # the rest is read again next time
        # Stopped with reads left to do (filters): the next page continues where this one ended.
        last = from_item(start)["event_id"] if start else None
        return AuditPage(found, last)


def put_actions(db: DynamoDB, events: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    """The TransactWriteItems actions that write ``events`` in the transaction of the change they record."""
    table = db.table_name(AUDIT_EVENTS.name)
    return [
        {
            "Put": {
                "TableName": table,
                "Item": to_item(_item(event)),
                "ConditionExpression": "attribute_not_exists(event_id)",
            }
        }
        for event in events
    ]


def write_with_audit(db: DynamoDB, kind: str, request: dict[str, Any], audit: Sequence[AuditEvent]) -> bool:
    """One write (``kind``: Put or Update) and ``audit``, all or nothing; False when the write's condition failed.

    Without events it is the plain write; with them, one transaction (no ReturnValues there).
    """
    if not audit:
        with translate_errors():
            try:
                getattr(db.client, "put_item" if kind == "Put" else "update_item")(**request)
            except Exception as exc:
                if is_failed_condition(exc):
                    return False
                raise
        return True
    try:
        transact_write(db.client, [{kind: request}, *put_actions(db, audit)])
    except TransactionCancelled as exc:
        if exc.failed_condition(0):
            return False
        raise
    return True


def _item(event: AuditEvent) -> dict[str, Any]:
    item: dict[str, Any] = {
        "tenant_id": event.tenant_id,
        "event_id": event.event_id,
        "time": event.time,
        "action": event.action,
        "actor_user_id": event.actor.user_id,
        "actor_username": event.actor.username,
        "actor_auth": event.actor.auth,
        "actor_key_id": event.actor.key_id,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "ip": event.origin.ip,
        "user_agent": event.origin.user_agent,
        "request_id": event.origin.request_id,
        "outcome": event.outcome,
        "details": json.dumps(event.details, sort_keys=True),
        TTL_ATTRIBUTE: event.expires_at,
    }
    return {name: value for name, value in item.items() if value is not None}


def _bound(moment: datetime, *, lowest: bool) -> str:
    # The smallest (or largest) event id of that millisecond: ULIDs begin with their time.
    # Clamped to what a ULID holds: a bound before 1970 or after the year 10889 selects from the edge.
    millis = min(max(int(moment.timestamp() * 1000), 0), 2**48 - 1)
    filler = b"\x00" * 10 if lowest else b"\xff" * 10
    return EVENT_ID_PREFIX + str(ULID.from_bytes(millis.to_bytes(6, "big") + filler))


def _event(values: dict[str, Any]) -> AuditEvent:
    return AuditEvent(
        event_id=values["event_id"],
        tenant_id=values["tenant_id"],
        time=values["time"],
        action=values["action"],
        actor=Actor(
            values.get("actor_user_id"),
            values.get("actor_username"),
            values.get("actor_auth"),
            values.get("actor_key_id"),
        ),
        origin=Origin(values.get("ip"), values.get("user_agent"), values.get("request_id")),
        target_type=values.get("target_type"),
        target_id=values.get("target_id"),
        outcome=values.get("outcome", "success"),
        details=json.loads(values.get("details") or "{}"),
        expires_at=int(values.get(TTL_ATTRIBUTE, 0)),
    )
