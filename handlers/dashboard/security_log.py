"""Settings → Security log (admins): the tenant's audit events, newest first, with filters and paging."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, render_template, request

from handlers.web.context import repositories
from handlers.web.cursors import decode_position, encode_position
from handlers.web.principal import current_principal, require_permission
from models.audit_record import ACTIONS, AuditEvent, is_event_id
from models.roles import USERS_MANAGE

bp = Blueprint("security_log", __name__, url_prefix="/settings/security-log")

PAGE_SIZE = 25
# The dashboard's cursors are its own list's: an API cursor does not page this view, nor the reverse.
CURSOR_KIND = "d"


@bp.get("")
@require_permission(USERS_MANAGE)
def list_events() -> str:
    """One page of the tenant's security events, filtered by action, person and day."""
    tenant_id = current_principal().tenant_id
    repos = repositories()
    args = request.args
    action = args.get("action") if args.get("action") in ACTIONS else None
    users = sorted(repos.users.list_for_tenant(tenant_id), key=lambda user: user.username.casefold())
    actor_id = args.get("actor") if any(user.user_id == args.get("actor") for user in users) else None
    since, until = _day(args.get("from")), _day(args.get("to"))
    cursor = args.get("cursor") or ""
    after = None
    if cursor:
        after = decode_position(tenant_id, CURSOR_KIND, cursor, is_event_id)
    page = repos.audit.page(
        tenant_id,
        limit=PAGE_SIZE,
        after_id=after,
        action=action,
        actor_id=actor_id,
        since=since,
        until=until + timedelta(days=1) - timedelta(microseconds=1) if until else None,
    )
    filters = {"action": action or "", "actor": actor_id or "", "from": args.get("from", ""), "to": args.get("to", "")}
    next_cursor = encode_position(tenant_id, CURSOR_KIND, page.last_id) if page.last_id else None
    return render_template(
        "dashboard/security_log.html",
        section="security_log",
        events=[EventRow(event) for event in page.items],
        actions=sorted(ACTIONS),
        people=users,
        filters=filters,
        next_cursor=next_cursor,
        paged=bool(cursor),
    )


class EventRow:
    """An event as the page shows it."""

    def __init__(self, event: AuditEvent) -> None:
        self.time = event.time
        self.action = event.action
        self.failed = event.outcome == "failure"
        self.actor = event.actor.username or ("API key " + event.actor.key_id if event.actor.key_id else "unknown")
        self.auth = event.actor.auth or ""
        self.target = f"{event.target_type} {event.target_id}" if event.target_type else ""
        self.ip = event.origin.ip or ""
        self.user_agent = event.origin.user_agent or ""
        self.details = ", ".join(f"{name}: {value}" for name, value in sorted(event.details.items()))


def _day(value: str | None) -> datetime | None:
    # A date input's value (YYYY-MM-DD), as the start of that UTC day; anything else is no filter.
    try:
        return datetime.combine(datetime.strptime(value or "", "%Y-%m-%d").date(), time(), tzinfo=UTC)
    except ValueError:
        return None
