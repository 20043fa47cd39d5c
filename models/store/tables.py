"""Every DynamoDB table of the service, in one place: used by ``db init`` and by the tests.

Layout (logical name -> physical ``DYNAMODB_TABLE_PREFIX + name``):

``accounts``  pk (S), sk (S); GSI ``by_tenant`` on gsi1pk (S), gsi1sk (S)
    tenant  pk=TENANT#<tenant_id>        sk=TENANT
    user    pk=USER#<casefolded username> sk=USER   gsi1pk=TENANT#<tenant_id> gsi1sk=USER#<user_id>
    api key pk=APIKEY#<sha256 of the key>   sk=APIKEY gsi1pk=TENANT#<tenant_id> gsi1sk=KEY#<key_id>
    key id  pk=APIKEYID#<key_id>            sk=APIKEYID  (-> digest, tenant, creator)
    Keying the user by its casefolded username makes global, case-insensitive uniqueness one
    conditional PutItem and login one GetItem; the index lists a tenant's users and keys and finds a
    user by id. An API key item carries its creator's role and status, so authenticating a key is one
    GetItem; the user item lists its live keys (``api_keys``, guarded by ``keys_version``) so that a
    role change or a disable rewrites the user and every key in one transaction.

``revoked_tokens``  jti (S); TTL attribute ``expires_at``
    One item per revoked refresh token, deleted by DynamoDB once the token would have expired.

``messages``  tenant_id (S), message_id (S: msg_ + ULID, time-sortable)
    A tenant's messages are one partition sorted by time: a page, newest first, is one Query.

``idempotency``  key (S: <tenant_id>#<Idempotency-Key>); TTL attribute ``expires_at`` (24 h)
    The request's fingerprint and the first response, written in the same transaction as the message.

``audit_events``  tenant_id (S), event_id (S: evt_ + ULID, time-sortable); TTL attribute ``expires_at``
    A tenant's security events are one partition sorted by time: newest first is one Query, a time
    range a key condition. Each is written in the same transaction as the change it records.

``rate_limits``  key (S); TTL attribute ``expires_at``
    One counter per rate-limit window (``models/rate_limit_storage.py``), e.g. a tenant's minute.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from models.store.dynamo import TENANT_INDEX, DynamoDB, error_code, translate_errors

log = logging.getLogger(__name__)

TTL_ATTRIBUTE = "expires_at"

# What the by_tenant index carries: a user's public fields and an API key's listing fields.
TENANT_INDEX_ATTRIBUTES = (
    "type",
    "user_id",
    "tenant_id",
    "username",
    "role",
    "disabled",
    "created_at",
    "updated_at",
    "key_id",
    "name",
    "prefix_hint",
    "created_by",
    "creator_username",
    "permissions",
    "last_used_at",
    "expires_at",
    "revoked_at",
    "rotated_from",
)


@dataclass(frozen=True)
class TableSchema:
    """A table's keys, indexes and TTL attribute, as CreateTable wants them."""

    name: str
    keys: tuple[tuple[str, str], ...]  # (attribute, HASH|RANGE)
    attributes: tuple[str, ...]  # every key attribute, all strings
    indexes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None

    def create_table_request(self, physical_name: str) -> dict[str, Any]:
        """The CreateTable arguments for this schema (on-demand billing)."""
        request: dict[str, Any] = {
            "TableName": physical_name,
            "KeySchema": [{"AttributeName": name, "KeyType": kind} for name, kind in self.keys],
            "AttributeDefinitions": [{"AttributeName": name, "AttributeType": "S"} for name in self.attributes],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if self.indexes:
            request["GlobalSecondaryIndexes"] = [dict(index) for index in self.indexes]
        return request


ACCOUNTS = TableSchema(
    name="accounts",
    keys=(("pk", "HASH"), ("sk", "RANGE")),
    attributes=("pk", "sk", "gsi1pk", "gsi1sk"),
    indexes=(
        {
            "IndexName": TENANT_INDEX,
            "KeySchema": [
                {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
            ],
            # Password hashes and key-propagation bookkeeping never leave the base table.
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(TENANT_INDEX_ATTRIBUTES)},
        },
    ),
)

REVOKED_TOKENS = TableSchema(
    name="revoked_tokens",
    keys=(("jti", "HASH"),),
    attributes=("jti",),
    ttl_attribute=TTL_ATTRIBUTE,
)

RATE_LIMITS = TableSchema(
    name="rate_limits",
    keys=(("key", "HASH"),),
    attributes=("key",),
    ttl_attribute=TTL_ATTRIBUTE,
)

MESSAGES = TableSchema(
    name="messages",
    keys=(("tenant_id", "HASH"), ("message_id", "RANGE")),
    attributes=("tenant_id", "message_id"),
)

IDEMPOTENCY = TableSchema(
    name="idempotency",
    keys=(("key", "HASH"),),
    attributes=("key",),
    ttl_attribute=TTL_ATTRIBUTE,
)

AUDIT_EVENTS = TableSchema(
    name="audit_events",
    keys=(("tenant_id", "HASH"), ("event_id", "RANGE")),
    attributes=("tenant_id", "event_id"),
    ttl_attribute=TTL_ATTRIBUTE,
)

ALL_TABLES: tuple[TableSchema, ...] = (ACCOUNTS, REVOKED_TOKENS, RATE_LIMITS, MESSAGES, IDEMPOTENCY, AUDIT_EVENTS)


def create_tables(db: DynamoDB, schemas: tuple[TableSchema, ...] = ALL_TABLES) -> list[str]:
    """Create every missing table, wait until active, enable TTL; return the names created."""
    client = db.client
    created: list[str] = []
    with translate_errors():
        existing = set(_list_tables(client))
        for schema in schemas:
            physical = db.table_name(schema.name)
            if physical not in existing:
                try:
                    client.create_table(**schema.create_table_request(physical))
                    created.append(physical)
                except Exception as exc:
                    if error_code(exc) != "ResourceInUseException":
                        raise
            client.get_waiter("table_exists").wait(TableName=physical, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
            if schema.ttl_attribute:
                _enable_ttl(client, physical, schema.ttl_attribute)
    return created


def _list_tables(client: Any) -> list[str]:
    names: list[str] = []
    for page in client.get_paginator("list_tables").paginate():
        names.extend(page.get("TableNames", []))
    return names


def _enable_ttl(client: Any, table: str, attribute: str) -> None:
    try:
        current = client.describe_time_to_live(TableName=table).get("TimeToLiveDescription", {})
        if current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
            return
        client.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute}
        )
    except Exception as exc:
        log.warning("TTL not enabled on %s: %s", table, error_code(exc) or type(exc).__name__)
