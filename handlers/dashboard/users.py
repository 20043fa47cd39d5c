"""Settings → Users (admins): the tenant's users, a page at a time; create one, change a role, disable or enable."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from handlers.dashboard.paging import PAGE_SIZE, page_request, shown_page
from handlers.web.audit import audit_event, events_about
from handlers.web.context import repositories
from handlers.web.endpoint import validation_details
from handlers.web.errors import InvalidRequest
from handlers.web.principal import current_principal, require_permission
from handlers.web.schemas import USERS_CURSOR
from models.accounts.inputs import NewUser, UserChange
from models.accounts.user_changes import SelfChangeRefused, change_user
from models.passwords import hash_password
from models.roles import USERS_MANAGE, Role
from models.store.errors import Conflict
from models.store.item_keys import is_user_id

bp = Blueprint("users", __name__, url_prefix="/settings/users")

ROLES = [role.value for role in Role]
FIELD_LABELS = {"username": "Username", "password": "Password", "role": "Role"}


@bp.get("")
@require_permission(USERS_MANAGE)
def list_users() -> Response:
    """The users of the admin's tenant, oldest first, a page at a time, with the forms to manage them."""
    return _users_page()


@bp.post("")
@require_permission(USERS_MANAGE)
def create_user() -> BaseResponse:
    """Create a user in the admin's tenant, validated by the same rules as the API and the CLI."""
    form = request.form
    try:
        body = NewUser.model_validate(
            {"username": form.get("username", ""), "password": form.get("password", ""), "role": form.get("role", "")}
        )
    except ValidationError as exc:
        problems = [
            f"{FIELD_LABELS.get(detail['field'], detail['field'])}: {detail['message']}"
            for detail in validation_details(exc)
        ]
        return _users_page(errors=problems, status=400)
    try:
        created = audit_event(
            "user.created", target_type="user", details={"role": body.role, "username": body.username}
        )
        user = repositories().users.create(
            current_principal().tenant_id, body.username, hash_password(body.password), body.role, audit=[created]
        )
    except Conflict:
        return _users_page(errors=[f"The username “{body.username}” is already taken."], status=409)
    flash(f"Created {user.username} ({user.role}).", "success")
    return redirect(url_for(".list_users"), 303)


@bp.post("/<user_id>")
@require_permission(USERS_MANAGE)
def update_user(user_id: str) -> BaseResponse:
    """Change a user's role, or disable or enable them (never one's own)."""
    disabled = {"true": True, "false": False}.get(request.form.get("disabled", ""))
    try:
        change = UserChange.model_validate({"role": request.form.get("role") or None, "disabled": disabled})
    except ValidationError as exc:
        raise InvalidRequest("Choose one of the roles offered.") from exc
    if change.role is None and change.disabled is None:
        raise InvalidRequest("Nothing to change: choose a role, or disable or enable the user.")
    try:
        updated = change_user(
            repositories().users,
            current_principal(),
            user_id,
            role=change.role,
            disabled=change.disabled,
            audit=events_about("user", user_id),
        )
    except SelfChangeRefused as exc:
        flash(f"{exc}.", "error")
        return redirect(url_for(".list_users"), 303)
    if change.disabled is not None:
        state = "disabled; their keys stop working" if updated.disabled else "enabled"
        flash(f"{updated.username} is {state}.", "success")
    else:
        flash(f"{updated.username} is now {updated.role}.", "success")
    return redirect(url_for(".list_users"), 303)


def _users_page(errors: list[str] | None = None, status: int = 200) -> Response:
    principal = current_principal()
    asked = page_request(principal.tenant_id, USERS_CURSOR, is_user_id)
    page = repositories().users.list_page(
        principal.tenant_id, limit=PAGE_SIZE, after=asked.after, newest_first=asked.backwards
    )
    shown = shown_page(asked, page, lambda user: user.user_id, ".list_users")
    form = request.form if request.method == "POST" else {}
    html = render_template(
        "dashboard/users.html",
        section="users",
        users=shown.rows,
        pages=shown,
        roles=ROLES,
        errors=errors or [],
        new_username=form.get("username", ""),
        new_role=form.get("role", "member"),
    )
    return Response(html, status=status, mimetype="text/html")
