"""Opaque, signed page cursors, bound to the tenant that received them."""

from __future__ import annotations

from collections.abc import Callable

from itsdangerous import BadData, URLSafeSerializer

from handlers.web.context import repositories
from handlers.web.errors import InvalidRequest
from models.store.item_keys import is_message_id

SALT = "nativemessage.messages.cursor"


def _serializer() -> URLSafeSerializer:
    # Derived from the signing secret with its own salt: a cursor is never a valid token, nor the reverse.
    return URLSafeSerializer(repositories().signing_secret.get(), salt=SALT)


def encode_cursor(tenant_id: str, message_id: str) -> str:
    """A cursor that continues after ``message_id``, usable only by ``tenant_id``."""
    return encode_position(tenant_id, "m", message_id)


def decode_cursor(tenant_id: str, cursor: str) -> str:
    """The message id a cursor continues after; InvalidRequest if forged, altered or another tenant's."""
    return decode_position(tenant_id, "m", cursor, is_message_id)


def encode_position(tenant_id: str, kind: str, position: str) -> str:
    """A cursor of a ``kind`` of list (m: messages, e: audit events) continuing after ``position``."""
    return _serializer().dumps({"t": tenant_id, kind: position})


def decode_position(tenant_id: str, kind: str, cursor: str, valid: Callable[[str], bool]) -> str:
    """The position a ``kind`` cursor continues after; InvalidRequest if forged, altered, another
    tenant's or another list's."""
    try:
        payload = _serializer().loads(cursor)
    except BadData as exc:
        raise InvalidRequest("The cursor is invalid; use next_cursor as returned") from exc
    if not isinstance(payload, dict) or payload.get("t") != tenant_id or not valid(str(payload.get(kind))):
        raise InvalidRequest("The cursor is invalid; use next_cursor as returned")
    return str(payload[kind])
