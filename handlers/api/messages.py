"""Messages, the first protected resource: send (idempotently), list, read; tenant-scoped."""

from __future__ import annotations

import hashlib
import json
import re

from flask import Blueprint, Response, request, url_for

from handlers.api.messages_schemas import MessageCreate, MessageListQuery, MessageOut, MessagePage
from handlers.web.context import repositories
from handlers.web.cursors import decode_cursor, encode_cursor
from handlers.web.endpoint import API_KEY, BEARER, endpoint, json_response
from handlers.web.errors import InvalidRequest, ResourceConflict, ResourceNotFound
from handlers.web.principal import current_principal, require_permission
from handlers.web.schemas import ErrorEnvelope
from models.roles import MESSAGES_READ, MESSAGES_SEND
from models.store.errors import Conflict

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
    repos = repositories()
    try:
        accepted = repos.messages.create(
            tenant_id=principal.tenant_id,
            to=body.to,
            body=body.body,
            created_by=principal.user_id,
            key_id=principal.key_id,
            now=repos.now(),
            idempotency=_idempotency(body),
        )
    except Conflict as exc:
        raise ResourceConflict(str(exc)) from exc
    headers = {"Location": url_for("messages.get_message", message_id=accepted.message.message_id)}
    if accepted.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(MessageOut.of(accepted.message), status=201, headers=headers)


@bp.get("")
@require_permission(MESSAGES_READ)
@endpoint(query=MessageListQuery, responses={200: MessagePage}, tags=("messages",), security=[BEARER, API_KEY])
def list_messages(query: MessageListQuery) -> Response:
    """The caller's tenant's messages, newest first, ``limit`` at a time."""
    tenant_id = current_principal().tenant_id
    after = decode_cursor(tenant_id, query.cursor) if query.cursor else None
    page = repositories().messages.page(tenant_id, query.limit, after)
    next_cursor = encode_cursor(tenant_id, page.last_id) if page.last_id else None
    return json_response(MessagePage(items=[MessageOut.of(m) for m in page.items], next_cursor=next_cursor))


@bp.get("/<message_id>")
@require_permission(MESSAGES_READ)
@endpoint(responses={200: MessageOut, 404: ErrorEnvelope}, tags=("messages",), security=[BEARER, API_KEY])
def get_message(message_id: str) -> Response:
    """One message of the caller's tenant; any other id is a 404."""
    message = repositories().messages.get(current_principal().tenant_id, message_id)
    if message is None:
        raise ResourceNotFound("Message not found")
    return json_response(MessageOut.of(message))


def _idempotency(body: MessageCreate) -> tuple[str, str] | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not IDEMPOTENCY_KEY.match(key):
        raise InvalidRequest("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces")
    fingerprint = hashlib.sha256(json.dumps(body.model_dump(), sort_keys=True).encode()).hexdigest()
    return key, fingerprint
