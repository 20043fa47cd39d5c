"""Tenants: a customer organisation, identified by its lower-case name."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from models.audit import write_with_audit
from models.audit_record import AuditEvent
from models.clock import iso
from models.store.dynamo import (
    DynamoDB,
    put_new_item,
    read_item,
    to_item,
)
from models.store.errors import NotFound, StoreUnavailable
from models.store.item_keys import TENANT_ID_PATTERN, tenant_key
from models.store.tables import ACCOUNTS

DEFAULT_RATE_LIMIT = 200


@dataclass(frozen=True)
class Tenant:
    """A customer organisation."""

    tenant_id: str
    rate_limit: int
    created_at: str
    # When set, every user of the tenant must have two-factor authentication on to sign in.
    mfa_required: bool = False


def normalize_tenant_name(name: str) -> str:
    """The tenant id for a name: lower-case; ValueError unless it is a valid slug."""
    tenant_id = name.strip().lower()
    if not TENANT_ID_PATTERN.match(tenant_id):
        raise ValueError("tenant names are 1-40 characters: letters, digits and inner hyphens")
    return tenant_id


class TenantRepository:
    """Tenant items of the accounts table."""

    def __init__(self, db: DynamoDB, now: Callable[[], datetime]) -> None:
        self._db = db
        self._now = now
        self._table = db.table_name(ACCOUNTS.name)

    def create(self, name: str, rate_limit: int = DEFAULT_RATE_LIMIT) -> Tenant:
        """Create a tenant; Conflict if one of that name exists."""
        tenant = Tenant(
            tenant_id=normalize_tenant_name(name),
            rate_limit=rate_limit,
            created_at=iso(self._now()),
        )
        item = {**tenant_key(tenant.tenant_id), **tenant.__dict__, "type": "tenant"}
        put_new_item(self._db, self._table, item, conflict=f"tenant {tenant.tenant_id!r} already exists")
        return tenant

    def get(self, tenant_id: str, *, consistent: bool = False) -> Tenant:
        """The tenant with this id (a strongly consistent read with ``consistent``); NotFound otherwise."""
        if not TENANT_ID_PATTERN.match(tenant_id):
            raise NotFound("tenant not found")
        item = read_item(self._db, self._table, tenant_key(tenant_id), consistent=consistent)
        if item is None:
            raise NotFound("tenant not found")
        return _tenant(item)

    def set_rate_limit(self, tenant_id: str, rate_limit: int, audit: Sequence[AuditEvent] = ()) -> Tenant:
        """Change a tenant's requests-per-minute figure (with ``audit``, in one transaction); NotFound if none."""
        return self._set(tenant_id, "rate_limit", rate_limit, audit)

    def set_mfa_required(self, tenant_id: str, required: bool, audit: Sequence[AuditEvent] = ()) -> Tenant:
        """Require two-factor authentication of every user of a tenant, or make it optional; NotFound if none."""
        return self._set(tenant_id, "mfa_required", required, audit)

    def _set(self, tenant_id: str, attribute: str, value: Any, audit: Sequence[AuditEvent]) -> Tenant:
        # One setting of an existing tenant, with its audit events in the same transaction.
        tenant = self.get(tenant_id)
        update = {
            "TableName": self._table,
            "Key": to_item(tenant_key(tenant_id)),
            "UpdateExpression": "SET #attribute = :value",
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": {"#attribute": attribute},
            "ExpressionAttributeValues": to_item({":value": value}),
        }
        if not write_with_audit(self._db, "Update", update, audit):
            raise NotFound("tenant not found")
        return replace(tenant, **{attribute: value})


def _tenant(values: dict[str, Any]) -> Tenant:
    return Tenant(
        tenant_id=values["tenant_id"],
        rate_limit=int(values["rate_limit"]),
        created_at=values["created_at"],
        mfa_required=bool(values.get("mfa_required", False)),
    )


class TenantCache:
    """Each tenant's settings (rate limit, two-factor requirement), read at most once a minute per process.

    A ``tenants set-limit`` or ``set-mfa`` therefore takes effect within a minute on the paths that
    read it here (the rate limiter, token refresh, dashboard pages); logins read the tenant itself.
    """

    def __init__(self, tenants: TenantRepository, now: Callable[[], float], ttl_seconds: float = 60) -> None:
        self._tenants = tenants
        self._now = now
        self._ttl = ttl_seconds
        self._cache: dict[str, tuple[Tenant | None, float]] = {}
        self._lock = threading.Lock()

    def per_minute(self, tenant_id: str) -> int:
        """The tenant's limit; the default for an unknown tenant, the last known one if DynamoDB fails."""
        tenant = self._tenant(tenant_id)
        return tenant.rate_limit if tenant is not None else DEFAULT_RATE_LIMIT

    def requires_mfa(self, tenant_id: str) -> bool:
        """True when the tenant requires two-factor authentication (as last known if DynamoDB fails).

        Unlike the rate limit, it has no default to fall back on: StoreUnavailable when DynamoDB
        fails and nothing is known yet, rather than letting a password alone through.
        """
        tenant = self._tenant(tenant_id, fail_open=False)
        return tenant is not None and tenant.mfa_required

    def clear(self) -> None:
        """Forget every cached tenant (the next request of each tenant reads it again)."""
        with self._lock:
            self._cache.clear()

    def _tenant(self, tenant_id: str, fail_open: bool = True) -> Tenant | None:
        now = self._now()
        cached = self._cache.get(tenant_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            tenant: Tenant | None = self._tenants.get(tenant_id)
        except NotFound:
            tenant = None
        except StoreUnavailable:
            if cached is None and not fail_open:
                raise
            return cached[0] if cached else None
        with self._lock:
            self._cache[tenant_id] = (tenant, now + self._ttl)
        return tenant
