"""Roles and the permissions each grants (the contract's table)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A user's role inside their tenant."""

    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


MESSAGES_READ = "messages:read"
MESSAGES_SEND = "messages:send"
API_KEYS_MANAGE = "api_keys:manage"
USERS_MANAGE = "users:manage"

PERMISSIONS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: (MESSAGES_READ, MESSAGES_SEND, API_KEYS_MANAGE, USERS_MANAGE),
    Role.MEMBER: (MESSAGES_READ, MESSAGES_SEND, API_KEYS_MANAGE),
    Role.VIEWER: (MESSAGES_READ,),
}


def permissions_for(role: str) -> tuple[str, ...]:
    """The permissions of a role name; none for an unknown role."""
    try:
        return PERMISSIONS[Role(role)]
    except ValueError:
        return ()


# Managing credentials needs a person: an API key never carries these, whatever its creator's role.
CREDENTIAL_PERMISSIONS = frozenset({API_KEYS_MANAGE, USERS_MANAGE})


def api_key_permissions(creator_role: str, narrowed_to: tuple[str, ...] | None) -> tuple[str, ...]:
    """What a key may do: its creator's current permissions, narrowed, never credential management."""
    granted = [p for p in permissions_for(creator_role) if p not in CREDENTIAL_PERMISSIONS]
    if narrowed_to is not None:
        granted = [p for p in granted if p in narrowed_to]
    return tuple(granted)
