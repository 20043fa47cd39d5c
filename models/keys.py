"""Builders for every DynamoDB key the service writes, so no repository spells one by hand."""

from __future__ import annotations

import re

from ulid import ULID

TENANT_SK = "TENANT"
USER_SK = "USER"

TENANT_ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$")
USER_ID_PATTERN = re.compile(r"^usr_[0-9A-HJKMNP-TV-Z]{26}$")


def new_user_id() -> str:
    """A new, time-sortable user id such as ``usr_01JD...``."""
    return f"usr_{ULID()}"


def username_key(username: str) -> str:
    """The case-insensitive form of a username that uniqueness is enforced on."""
    return username.casefold()


def tenant_key(tenant_id: str) -> dict[str, str]:
    """Primary key of a tenant item."""
    return {"pk": f"TENANT#{tenant_id}", "sk": TENANT_SK}


def user_key(username: str) -> dict[str, str]:
    """Primary key of a user item: the casefolded username, so uniqueness is one conditional put."""
    return {"pk": f"USER#{username_key(username)}", "sk": USER_SK}


def tenant_users_index_key(tenant_id: str, user_id: str) -> dict[str, str]:
    """The ``by_tenant`` index key of a user item."""
    return {"gsi1pk": f"TENANT#{tenant_id}", "gsi1sk": f"USER#{user_id}"}


def is_user_id(value: str) -> bool:
    """True when ``value`` has the shape of a user id (anything else cannot exist)."""
    return bool(USER_ID_PATTERN.match(value))
