"""Builders for every DynamoDB key the service writes, so no repository spells one by hand."""

from __future__ import annotations

import re
import threading

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


def new_api_key_id() -> str:
    """A new, time-sortable API key id such as ``key_01JD...``."""
    return f"key_{ULID()}"


def api_key_key(digest: str) -> dict[str, str]:
    """Primary key of an API key item, found by the digest of the key itself."""
    return {"pk": f"APIKEY#{digest}", "sk": "APIKEY"}


def api_key_id_key(key_id: str) -> dict[str, str]:
    """Primary key of the item that maps a key id to its digest (strongly consistent lookups by id)."""
    return {"pk": f"APIKEYID#{key_id}", "sk": "APIKEYID"}


def tenant_keys_index_key(tenant_id: str, key_id: str) -> dict[str, str]:
    """The ``by_tenant`` index key of an API key item (listing a tenant's keys)."""
    return {"gsi1pk": f"TENANT#{tenant_id}", "gsi1sk": f"KEY#{key_id}"}


API_KEY_ID_PATTERN = re.compile(r"^key_[0-9A-HJKMNP-TV-Z]{26}$")


def is_api_key_id(value: str) -> bool:
    """True when ``value`` has the shape of an API key id."""
    return bool(API_KEY_ID_PATTERN.match(value))


MESSAGE_ID_PATTERN = re.compile(r"^msg_[0-9A-HJKMNP-TV-Z]{26}$")
_last_message_ulid = 0
_message_ulid_lock = threading.Lock()


def new_message_id() -> str:
    """A new message id (``msg_`` + ULID), strictly increasing within this process.

    A plain ULID orders only to the millisecond; bumping the last one keeps two messages made in the
    same millisecond in creation order, so "newest first" is exact for a process's own messages.
    """
    global _last_message_ulid
    with _message_ulid_lock:
        candidate = int(ULID())
        if candidate >> 80 == _last_message_ulid >> 80 and candidate <= _last_message_ulid:
            candidate = _last_message_ulid + 1
        _last_message_ulid = candidate
    return f"msg_{ULID.from_int(candidate)}"


def is_message_id(value: str) -> bool:
    """True when ``value`` has the shape of a message id."""
    return bool(MESSAGE_ID_PATTERN.match(value))


def idempotency_key(tenant_id: str, key: str) -> dict[str, str]:
    """Primary key of an Idempotency-Key record, scoped to the tenant."""
    return {"key": f"{tenant_id}#{key}"}
