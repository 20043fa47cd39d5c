"""Messages, the first protected resource: send (idempotently), list, read; tenant-scoped."""

from __future__ import annotations

import hashlib
import json
import re

from flask import Blueprint, Response, request, url_for

from handlers.cursors import decode_cursor, encode_cursor
from handlers.endpoint import API_KEY, BEARER, endpoint, json_response
from handlers.errors import InvalidRequest, ResourceConflict, ResourceNotFound
from handlers.message_schemas import MessageCreate, MessageListQuery, MessageOut, MessagePage
from handlers.principal import current_principal, require_permission
from handlers.schemas import ErrorEnvelope
from handlers.services import services
from models.errors import Conflict
from models.messages import Message
from models.roles import MESSAGES_READ, MESSAGES_SEND

bp = Blueprint("messages", __name__, url_prefix="/api/v1/messages")

IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # printable ASCII, no spaces


@bp.post("")
@require_permission(MESSAGES_SEND)
@endpoint(
    body=MessageCreate,
    responses={201: MessageOut, 409: ErrorEnvelope},
    tags=("messages",),
    security=[BEARER, API_KEY],
)
def send_message(body: MessageCreate) -> Response:
    """Accept a message for delivery (stored as ``queued``); safe to retry with an Idempotency-Key."""
    principal = current_principal()
    svc = services()
    try:
        accepted = svc.messages.create(
            tenant_id=principal.tenant_id,
            to=body.to,
            body=body.body,
            created_by=principal.user_id,
            key_id=principal.key_id,
            now=svc.clock.now(),
            idempotency=_idempotency(body),
        )
    except Conflict as exc:
        raise ResourceConflict(str(exc)) from exc
    headers = {"Location": url_for("messages.get_message", message_id=accepted.message.message_id)}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(message_out(accepted.message), status=201, headers=headers)


@bp.get("")
@require_permission(MESSAGES_READ)
@endpoint(query=MessageListQuery, responses={200: MessagePage}, tags=("messages",), security=[BEARER, API_KEY])
def list_messages(query: MessageListQuery) -> Response:
    """The caller's tenant's messages, newest first, ``limit`` at a time."""
    tenant_id = current_principal().tenant_id
    after = decode_cursor(tenant_id, query.cursor) if query.cursor else None
    page = services().messages.page(tenant_id, query.limit, after)
    next_cursor = encode_cursor(tenant_id, page.last_id) if page.last_id else None
    return json_response(MessagePage(items=[message_out(m) for m in page.items], next_cursor=next_cursor))


@bp.get("/<message_id>")
@require_permission(MESSAGES_READ)
@endpoint(responses={200: MessageOut, 404: ErrorEnvelope}, tags=("messages",), security=[BEARER, API_KEY])
def get_message(message_id: str) -> Response:
    """One message of the caller's tenant; any other id is a 404."""
    message = services().messages.get(current_principal().tenant_id, message_id)
    if message is None:
        raise ResourceNotFound("Message not found")
    return json_response(message_out(message))


def message_out(message: Message) -> MessageOut:
    """The public shape of a message."""
    return MessageOut(
        id=message.message_id,
        to=message.to,
        body=message.body,
        status="queued",
        created_at=message.created_at,
        created_by=message.created_by,
        key_id=message.key_id,
    )


def _idempotency(body: MessageCreate) -> tuple[str, str] | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidRequest("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces")
    fingerprint = hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()
    return key, fingerprint
