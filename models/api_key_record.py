"""The API key record and its DynamoDB items: the key item (found by digest, listed by the tenant index) and the id item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, get_args

from models.store.item_keys import api_key_id_key, api_key_key, tenant_keys_index_key

KeyStatus = Literal["active", "revoked", "expired"]
KEY_STATUSES: tuple[KeyStatus, ...] = get_args(KeyStatus)

# The public page says to revoke unused keys: a key idle this long is flagged as unused.
UNUSED_AFTER = timedelta(days=30)


@dataclass(frozen=True)
class ApiKey:
    """An API key's metadata (never the key itself, which exists only in the creation response)."""

    key_id: str
    tenant_id: str
    name: str
    prefix_hint: str
    created_at: str
    created_by: str
    creator_username: str
    creator_role: str
    creator_disabled: bool
    permissions: tuple[str, ...] | None = None
    last_used_at: str | None = None
    expires_at: str | None = None
    revoked_at: str | None = None
    rotated_from: str | None = None
    # Set on a key once it has been rotated: it works until its grace ends, and is not rotated again.
    replaced_by: str | None = None
    digest: str = field(default="", repr=False)

    def is_usable(self, now: datetime) -> bool:
        """True when the key authenticates at ``now``: not revoked, not expired, creator active."""
        if self.revoked_at is not None or self.creator_disabled:
            return False
        return self.expires_at is None or datetime.fromisoformat(self.expires_at) > now

    def status(self, now: datetime) -> KeyStatus:
        """``active``, ``revoked`` or ``expired``, as the listing shows it."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now:
            return "expired"
        return "active"

    def is_unused(self, now: datetime) -> bool:
        """True when the key has not been used for 30 days or more (never used: created that long ago)."""
        last_seen = self.last_used_at or self.created_at
        return now - datetime.fromisoformat(last_seen) >= UNUSED_AFTER


def key_item(key: ApiKey) -> dict[str, Any]:
    """The stored item of a key, found by its digest and listed through the tenant index."""
    values = {k: v for k, v in key.__dict__.items() if k != "digest"}
    values["permissions"] = list(key.permissions) if key.permissions is not None else None
    return {**api_key_key(key.digest), **tenant_keys_index_key(key.tenant_id, key.key_id), "type": "api_key", **values}


def id_item(key: ApiKey) -> dict[str, Any]:
    """The item that maps a key id to its digest."""
    return {
        **api_key_id_key(key.key_id),
        "digest": key.digest,
        "tenant_id": key.tenant_id,
        "created_by": key.created_by,
    }


def key_from_item(values: dict[str, Any]) -> ApiKey:
    """An ApiKey from a stored (or index-projected) item."""
    permissions = values.get("permissions")
    return ApiKey(
        key_id=values["key_id"],
        tenant_id=values["tenant_id"],
        name=values["name"],
        prefix_hint=values["prefix_hint"],
        created_at=values["created_at"],
        created_by=values["created_by"],
        creator_username=values["creator_username"],
        creator_role=values.get("creator_role", ""),
        creator_disabled=bool(values.get("creator_disabled", False)),
        permissions=tuple(permissions) if permissions is not None else None,
        last_used_at=values.get("last_used_at"),
        expires_at=values.get("expires_at"),
        revoked_at=values.get("revoked_at"),
        rotated_from=values.get("rotated_from"),
        replaced_by=values.get("replaced_by"),
        digest=values["pk"].removeprefix("APIKEY#"),
    )
