"""Opaque, signed page cursors, bound to the tenant that received them (messages, users, API keys)."""

from __future__ import annotations

from collections.abc import Callable

from itsdangerous import BadData, URLSafeSerializer

from handlers.web.context import repositories
from handlers.web.errors import InvalidRequest

# The salt dates from when only messages were paged; changing it would void cursors handed out.
SALT = "nativemessage.messages.cursor"


def _serializer() -> URLSafeSerializer:
    # Derived from the signing secret with its own salt: a cursor is never a valid token, nor the reverse.
    return URLSafeSerializer(repositories().signing_secret.get(), salt=SALT)


def encode_cursor(tenant_id: str, last_id: str) -> str:
    """A cursor that continues after the item ``last_id``, usable only by ``tenant_id``."""
    return _serializer().dumps({"t": tenant_id, "m": last_id})


def decode_cursor(tenant_id: str, cursor: str, is_id: Callable[[str], bool]) -> str:
    """The id a cursor continues after; InvalidRequest if forged, altered, another tenant's or another listing's.

    ``is_id`` is the id shape of the listing (``msg_``, ``usr_``, ``key_``): a cursor of one listing
    is refused by another.
    """
    try:
        payload = _serializer().loads(cursor)
    except BadData as exc:
        raise InvalidRequest("The cursor is invalid; use next_cursor as returned") from exc
    if not isinstance(payload, dict) or payload.get("t") != tenant_id or not is_id(str(payload.get("m"))):
        raise InvalidRequest("The cursor is invalid; use next_cursor as returned")
    return str(payload["m"])


def start_after(tenant_id: str, cursor: str | None, is_id: Callable[[str], bool]) -> str | None:
    """The id a page starts after: the cursor's, or None (the first page) without one or with an empty one."""
    return decode_cursor(tenant_id, cursor, is_id) if cursor else None


def next_cursor(tenant_id: str, last_id: str | None) -> str | None:
    """The ``next_cursor`` of a page whose next one starts after ``last_id`` (None: it is the last page)."""
    return encode_cursor(tenant_id, last_id) if last_id else None
