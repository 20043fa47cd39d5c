"""The tenant's security audit log: who did what to which account or key (admins)."""

from __future__ import annotations

from flask import Blueprint, Response

from handlers.api.audit_events_schemas import AuditEventOut, AuditEventPage, AuditEventQuery
from handlers.web.context import repositories
from handlers.web.cursors import decode_position, encode_position
from handlers.web.endpoint import BEARER, endpoint, json_response
from handlers.web.principal import current_principal, require_permission
from models.audit_record import is_event_id
from models.roles import USERS_MANAGE

bp = Blueprint("audit_events", __name__, url_prefix="/api/v1/audit-events")

CURSOR_KIND = "e"


@bp.get("")
@require_permission(USERS_MANAGE)
@endpoint(query=AuditEventQuery, responses={200: AuditEventPage}, tags=("audit",), security=[BEARER])
def list_audit_events(query: AuditEventQuery) -> Response:
    """The caller's tenant's security events, newest first, filtered by action, actor and time."""
    tenant_id = current_principal().tenant_id
    after = decode_position(tenant_id, CURSOR_KIND, query.cursor, is_event_id) if query.cursor else None
    page = repositories().audit.page(
        tenant_id,
        limit=query.limit,
        after_id=after,
        action=query.action,
        actor_id=query.actor_id,
        since=query.since,
        until=query.until,
    )
    next_cursor = encode_position(tenant_id, CURSOR_KIND, page.last_id) if page.last_id else None
    return json_response(AuditEventPage(items=[AuditEventOut.of(e) for e in page.items], next_cursor=next_cursor))
