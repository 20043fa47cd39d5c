"""Messages: accepted, stored as ``queued``, listed newest first, one partition per tenant."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from models.clock import iso
from models.store.dynamo import (
    DynamoDB,
    TransactionCancelled,
    from_item,
    read_item,
    to_item,
    transact_write,
    translate_errors,
)
from models.store.errors import Conflict
from models.store.item_keys import idempotency_key, is_message_id, new_message_id
from models.store.tables import IDEMPOTENCY, MESSAGES, TTL_ATTRIBUTE

IDEMPOTENCY_WINDOW = timedelta(hours=24)
REPLAY_ATTEMPTS = 3


@dataclass(frozen=True)
class Message:
    """A message accepted for delivery."""

    message_id: str
    tenant_id: str
    to: str
    body: str
    status: str
    created_at: str
    created_by: str
    key_id: str | None = None


@dataclass(frozen=True)
class Page:
    """One page of a tenant's messages, newest first; ``last_id`` is set when more follow."""

    items: list[Message]
    last_id: str | None


@dataclass(frozen=True)
class Accepted:
    """The outcome of a send: the message, and whether it is the replay of an earlier request."""

    message: Message
    replayed: bool


def recipient_number(to: str) -> str | None:
    """``to`` in E.164 form if it is a possible phone number (its country's lengths), else None."""
    import phonenumbers  # loaded on the first send, not at cold start

    try:
        number = phonenumbers.parse(to, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class MessageRepository:
    """The messages table and the Idempotency-Key records stored beside it."""

    def __init__(self, db: DynamoDB) -> None:
        self._db = db
        self._table = db.table_name(MESSAGES.name)
        self._idempotency_table = db.table_name(IDEMPOTENCY.name)

    def create(
        self,
        *,
        tenant_id: str,
        to: str,
        body: str,
        created_by: str,
        key_id: str | None,
        now: datetime,
        idempotency: tuple[str, str] | None = None,
    ) -> Accepted:
        """Store a new queued message; with ``(key, fingerprint)``, at most once per key for 24 hours.

        The same key with the same fingerprint returns the first message again; with another
        fingerprint it is a Conflict. The message and its idempotency record are one transaction.
        """
        message = Message(new_message_id(), tenant_id, to, body, "queued", iso(now), created_by, key_id)
        put_message = {
            "Put": {
                "TableName": self._table,
                "Item": to_item(asdict(message)),
                "ConditionExpression": "attribute_not_exists(message_id)",
            }
        }
        if idempotency is None:
            with translate_errors():
                self._db.client.put_item(**put_message["Put"])
            return Accepted(message, replayed=False)
        key, fingerprint = idempotency
        record = {
            **idempotency_key(tenant_id, key),
            "fingerprint": fingerprint,
            "message": json.dumps(asdict(message)),
            TTL_ATTRIBUTE: int((now + IDEMPOTENCY_WINDOW).timestamp()),
        }
        claim = {
            "Put": {
                "TableName": self._idempotency_table,
                "Item": to_item(record),
                # A record past its 24 hours no longer binds the key, even before DynamoDB deletes it.
                "ConditionExpression": "attribute_not_exists(#key) OR expires_at <= :now",
                "ExpressionAttributeNames": {"#key": "key"},
                "ExpressionAttributeValues": to_item({":now": int(now.timestamp())}),
            }
        }
        for _ in range(REPLAY_ATTEMPTS):
            try:
                transact_write(self._db.client, [claim, put_message])
                return Accepted(message, replayed=False)
            except TransactionCancelled as exc:
                if not exc.failed_condition(0):
                    raise
            earlier = self._idempotency_record(tenant_id, key, now)
            if earlier is None:
                continue  # the earlier record just expired: claim the key again
            if earlier["fingerprint"] != fingerprint:
                raise Conflict("this Idempotency-Key was used with a different request")
            return Accepted(Message(**json.loads(earlier["message"])), replayed=True)
        raise Conflict("this Idempotency-Key is being used by a concurrent request; retry")

    def get(self, tenant_id: str, message_id: str) -> Message | None:
        """One message of the tenant, or None (also for ids of other tenants and malformed ids)."""
        if not is_message_id(message_id):
            return None
        item = read_item(self._db, self._table, {"tenant_id": tenant_id, "message_id": message_id}, consistent=False)
        return Message(**item) if item else None

    def page(self, tenant_id: str, limit: int, after_id: str | None = None) -> Page:
        """Up to ``limit`` messages older than ``after_id`` (newest first), with where the next page starts."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "tenant_id = :tenant",
            "ExpressionAttributeValues": to_item({":tenant": tenant_id}),
            "ScanIndexForward": False,
            # One more than asked tells whether another page exists, without an empty last page.
            "Limit": limit + 1,
        }
        if after_id is not None:
            request["ExclusiveStartKey"] = to_item({"tenant_id": tenant_id, "message_id": after_id})
        with translate_errors():
            items = [Message(**from_item(item)) for item in self._db.client.query(**request).get("Items", [])]
        if len(items) > limit:
            return Page(items[:limit], items[limit - 1].message_id)
        return Page(items, None)

    def _idempotency_record(self, tenant_id: str, key: str, now: datetime) -> dict[str, Any] | None:
        record = read_item(self._db, self._idempotency_table, idempotency_key(tenant_id, key))
        return record if record and int(record.get(TTL_ATTRIBUTE, 0)) > now.timestamp() else None
