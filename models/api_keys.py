"""API keys: the repository (stored by SHA-256 digest, carrying the creator's role and status); the record is in ``api_key_record``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from models.api_key_record import ApiKey, KeyStatus, id_item, key_from_item, key_item
from models.audit import put_actions
from models.audit_record import AuditEvent
from models.clock import iso
from models.key_format import generate_key, key_digest, prefix_hint
from models.store.dynamo import (
    DynamoDB,
    TransactionCancelled,
    backoff,
    conditional_update,
    query_tenant_index,
    read_item,
    to_item,
    transact_write,
    translate_errors,
)
from models.store.errors import Conflict, NotFound
from models.store.item_keys import api_key_id_key, api_key_key, is_api_key_id, new_api_key_id
from models.store.tables import ACCOUNTS
from models.store.tenant_index import IndexPage, page_tenant_index
from models.users import UPDATE_ATTEMPTS, User, UserRepository

# A user's live keys are rewritten in one transaction (at most 100 actions) when their role changes.
MAX_LIVE_KEYS_PER_USER = 50
# The longest a rotated key may keep working beside its replacement.
MAX_GRACE_SECONDS = 7 * 24 * 60 * 60


class ApiKeyRepository:
    """API key items of the accounts table (and the creator's list of live keys)."""

    def __init__(self, db: DynamoDB, users: UserRepository) -> None:
        self._db = db
        self._users = users
        self._table = db.table_name(ACCOUNTS.name)

    def create(
        self,
        creator: User,
        *,
        name: str,
        prefix: str,
        now: datetime,
        permissions: tuple[str, ...] | None = None,
        expires_at: datetime | None = None,
        rotated_from: ApiKey | None = None,
        rotated_expiry: datetime | None = None,
        audit: Sequence[AuditEvent] = (),
    ) -> tuple[ApiKey, str]:
        """Mint a key for ``creator``; return its metadata and the key, which is never stored.

        ``audit`` events (naming the new key unless they name one) are written in the same transaction.
        """
        secret = generate_key(prefix)
        for attempt in range(UPDATE_ATTEMPTS):
            current = self._users.reload(creator)
            if current.disabled:
                raise Conflict("the key's owner is disabled")
            key = ApiKey(
                key_id=new_api_key_id(),
                tenant_id=current.tenant_id,
                name=name,
                prefix_hint=prefix_hint(secret),
                created_at=iso(now),
                created_by=current.user_id,
                creator_username=current.username,
                creator_role=current.role,
                creator_disabled=False,
                permissions=permissions,
                expires_at=iso(expires_at) if expires_at else None,
                rotated_from=rotated_from.key_id if rotated_from else None,
                digest=key_digest(secret),
            )
            live = {kid: entry for kid, entry in current.api_keys.items() if _entry_live(entry, now)}
            if rotated_from is not None and rotated_from.key_id in live:
                live[rotated_from.key_id] = _entry(rotated_from.digest, rotated_expiry)
            if len(live) >= MAX_LIVE_KEYS_PER_USER:
                raise Conflict(f"a user can hold at most {MAX_LIVE_KEYS_PER_USER} live keys; revoke unused ones")
            live[key.key_id] = _entry(key.digest, expires_at)
            actions = [
                # The creator's item first: its condition (nobody changed the user) guards the role copied.
                self._users.user_write(current, replace(current, api_keys=live)),
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_item(key_item(key)),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {"Put": {"TableName": self._table, "Item": to_item(id_item(key))}},
            ]
            if rotated_from is not None:
                actions.append(self._expire_action(rotated_from, rotated_expiry or now, key.key_id))
            actions += put_actions(self._db, (event.about(key.key_id, detail="new_key_id") for event in audit))
            try:
                transact_write(self._db.client, actions)
            except TransactionCancelled as exc:
                if exc.failed_condition(0):
                    backoff(attempt)
                    continue
                if rotated_from is not None and exc.failed_condition(3):
                    raise Conflict("the key was revoked or rotated meanwhile") from exc
                raise
            return key, secret
        raise Conflict("the key's owner changed concurrently; retry")

    def rotate(
        self, old: ApiKey, *, grace_seconds: int, prefix: str, now: datetime, audit: Sequence[AuditEvent] = ()
    ) -> tuple[ApiKey, str]:
        """A new key with the old one's name, permissions and owner; the old one ends after the grace."""
        if not old.is_usable(now):
            raise Conflict("only an active key can be rotated")
        if old.replaced_by is not None:
            raise Conflict(
                "this key was already rotated and works only until its grace period ends; rotate its replacement"
            )
        creator = self._creator(old)
        old_end = now + timedelta(seconds=grace_seconds)
        if old.expires_at is not None:
            old_end = min(old_end, datetime.fromisoformat(old.expires_at))
        return self.create(
            creator,
            name=old.name,
            prefix=prefix,
            now=now,
            permissions=old.permissions,
            rotated_from=old,
            rotated_expiry=old_end,
            audit=audit,
        )

    def find_by_digest(self, digest: str) -> ApiKey | None:
        """The key stored under this digest, or None (one strongly consistent GetItem)."""
        item = read_item(self._db, self._table, api_key_key(digest))
        return key_from_item(item) if item else None

    def get_in_tenant(self, tenant_id: str, key_id: str) -> ApiKey:
        """A key of this tenant by id; NotFound for other tenants' keys and unknown ids."""
        if not is_api_key_id(key_id):
            raise NotFound("API key not found")
        item = read_item(self._db, self._table, api_key_id_key(key_id))
        key = self.find_by_digest(item["digest"]) if item and item.get("tenant_id") == tenant_id else None
        if key is None:
            raise NotFound("API key not found")
        return key

    def list_page(
        self,
        tenant_id: str,
        *,
        now: datetime,
        limit: int,
        after: str | None = None,
        created_by: str | None = None,
        status: KeyStatus | None = None,
        newest_first: bool = False,
    ) -> IndexPage[ApiKey]:
        """Up to ``limit`` of a tenant's keys after the key id ``after`` (oldest first by default);
        only ``created_by``'s, only those whose status at ``now`` is ``status``, when given."""

        def wanted(key: ApiKey) -> bool:
            return (created_by is None or key.created_by == created_by) and (
                status is None or key.status(now) == status
            )

        filtered = created_by is not None or status is not None
        return page_tenant_index(
            self._db,
            self._table,
            tenant_id,
            "KEY#",
            key_from_item,
            limit=limit,
            after=after,
            descending=newest_first,
            keep=wanted if filtered else None,
        )

    def list_for_tenant(self, tenant_id: str, created_by: str | None = None) -> list[ApiKey]:
        """A tenant's keys, oldest first; only one user's with ``created_by``."""
        keys = (key_from_item(item) for item in query_tenant_index(self._db, self._table, tenant_id, "KEY#"))
        return [key for key in keys if created_by is None or key.created_by == created_by]

    def revoke(self, key: ApiKey, now: datetime, audit: Sequence[AuditEvent] = ()) -> ApiKey:
        """Revoke a key at once, with ``audit`` in the same transaction; revoking a revoked key changes nothing."""
        if key.revoked_at is not None:
            return key
        revoke = {
            "Update": {
                "TableName": self._table,
                "Key": to_item(api_key_key(key.digest)),
                "UpdateExpression": "SET revoked_at = :now",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": to_item({":now": iso(now)}),
            }
        }
        for attempt in range(UPDATE_ATTEMPTS):
            try:
                creator = self._users.reload(self._creator_stub(key))
            except NotFound:
                transact_write(self._db.client, [revoke, *put_actions(self._db, audit)])
                return replace(key, revoked_at=iso(now))
            live = {kid: entry for kid, entry in creator.api_keys.items() if kid != key.key_id}
            try:
                transact_write(
                    self._db.client,
                    [
                        self._users.user_write(creator, replace(creator, api_keys=live)),
                        revoke,
                        *put_actions(self._db, audit),
                    ],
                )
            except TransactionCancelled as exc:
                if exc.failed_condition(0):
                    backoff(attempt)
                    continue
                raise
            return replace(key, revoked_at=iso(now))
        raise Conflict("the key's owner changed concurrently; retry")

    def touch_last_used(self, key: ApiKey, now: datetime, every_seconds: int = 60) -> bool:
        """Record use at most once per ``every_seconds`` per key; True when it wrote."""
        if key.last_used_at is not None and now - datetime.fromisoformat(key.last_used_at) < timedelta(
            seconds=every_seconds
        ):
            return False
        with translate_errors():
            written = conditional_update(
                self._db.client,
                TableName=self._table,
                Key=to_item(api_key_key(key.digest)),
                UpdateExpression="SET last_used_at = :now",
                # Another process may have just written it: then this one need not.
                ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(last_used_at) OR last_used_at < :stale)",
                ExpressionAttributeValues=to_item(
                    {":now": iso(now), ":stale": iso(now - timedelta(seconds=every_seconds))}
                ),
            )
        return written is not None

    def _creator(self, key: ApiKey) -> User:
        creator = self._users.find_by_username(key.creator_username)
        if creator is None or creator.user_id != key.created_by:
            raise Conflict("the key's owner no longer exists")
        return creator

    @staticmethod
    def _creator_stub(key: ApiKey) -> User:
        return User(key.created_by, key.tenant_id, key.creator_username, key.creator_role, False, "", "")

    def _expire_action(self, key: ApiKey, end: datetime, replacement_id: str) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self._table,
                "Key": to_item(api_key_key(key.digest)),
                "UpdateExpression": "SET expires_at = :end, replaced_by = :replacement",
                # Rotated once only: a second rotation of the same key (even a concurrent one) fails here.
                "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(revoked_at) AND attribute_not_exists(replaced_by)",
                "ExpressionAttributeValues": to_item({":end": iso(end), ":replacement": replacement_id}),
            }
        }


def _entry(digest: str, expires_at: datetime | None) -> dict[str, Any]:
    return {"digest": digest, "expires_epoch": int(expires_at.timestamp()) if expires_at else None}


def _entry_live(entry: dict[str, Any], now: datetime) -> bool:
    expires = entry.get("expires_epoch")
    return expires is None or expires > now.timestamp()
