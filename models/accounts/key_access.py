"""Which API keys a principal may see and manage: their own, and an admin every key of the tenant."""

from __future__ import annotations

from datetime import datetime

from models.accounts.principal import Principal
from models.api_key_record import ApiKey, KeyStatus
from models.api_keys import ApiKeyRepository
from models.store.errors import NotAllowed, NotFound
from models.store.tenant_index import IndexPage


def visible_keys_page(
    api_keys: ApiKeyRepository,
    principal: Principal,
    *,
    now: datetime,
    limit: int,
    after: str | None = None,
    status: KeyStatus | None = None,
    newest_first: bool = False,
) -> IndexPage[ApiKey]:
    """A page of the keys ``principal`` may list (a member's own, an admin's whole tenant), oldest first.

    A member's page is filled from their own keys only, read on past everyone else's: its size and
    whether it has a next page say nothing about how many keys other people hold.
    """
    return api_keys.list_page(
        principal.tenant_id,
        now=now,
        limit=limit,
        after=after,
        created_by=None if principal.manages_users else principal.user_id,
        status=status,
        newest_first=newest_first,
    )


def visible_key(api_keys: ApiKeyRepository, principal: Principal, key_id: str) -> ApiKey:
    """A key ``principal`` may manage; NotFound for anyone else's (a member) or another tenant's."""
    key = api_keys.get_in_tenant(principal.tenant_id, key_id)
    if not principal.manages_users and key.created_by != principal.user_id:
        raise NotFound("API key not found")
    return key


def rotatable_key(api_keys: ApiKeyRepository, principal: Principal, key_id: str) -> ApiKey:
    """A key ``principal`` may rotate: only their own. A rotation hands over a working secret that
    acts as the key's owner, so an admin may list, view and revoke the tenant's keys, not rotate them."""
    key = visible_key(api_keys, principal, key_id)
    if key.created_by != principal.user_id:
        raise NotAllowed("only the key's owner can rotate it; an admin may revoke it")
    return key
