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
