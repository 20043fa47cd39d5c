"""Settings → API Keys: list, generate (the key shown once), revoke — with the API's own code and rules."""

from __future__ import annotations

import re
import secrets

from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for
from pydantic import ValidationError

from handlers.api_key_schemas import ApiKeyCreate
from handlers.api_keys import _visible_key, key_out
from handlers.errors import InvalidRequest
from handlers.principal import current_principal, require_permission
from handlers.services import services
from models.api_key_record import ApiKey
from models.errors import Conflict
from models.key_format import key_prefix
from models.roles import API_KEYS_MANAGE, USERS_MANAGE

bp = Blueprint("api_keys", __name__, url_prefix="/settings/api-keys")

FORM_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Ids of generate forms already used, so a resubmitted form (a reload) mints no second key.
SPENT_FORMS_KEPT = 20


@bp.get("")
@require_permission(API_KEYS_MANAGE)
def list_keys() -> Response:
    """The caller's keys (an admin's: the tenant's), with a Generate New Key button and Revoke buttons."""
    return _keys_page()


@bp.get("/new")
@require_permission(API_KEYS_MANAGE)
def new_key() -> Response:
    """Ask for the new key's name."""
    return _new_key_page(secrets.token_urlsafe(16))


@bp.post("")
@require_permission(API_KEYS_MANAGE)
def create_key() -> Response:
    """Mint a key exactly as POST /api/v1/api-keys does and show it in this response only."""
    form_id = request.form.get("form_id", "")
    if not FORM_ID_PATTERN.match(form_id):
        raise InvalidRequest("The form is incomplete. Open Generate New Key again.")
    if form_id in session.get("spent_forms", []):
        flash(
            "That form was already submitted, and its key is never shown twice. "
            "If you did not copy it, revoke it and generate a new one.",
            "warning",
        )
        return redirect(url_for(".list_keys"), 303)
    try:
        body = ApiKeyCreate(name=request.form.get("name", ""))
    except ValidationError:
        return _new_key_page(form_id, error="Give the key a name of 1 to 100 characters.", status=400)
    svc = services()
    try:
        key, secret = svc.api_keys.create(
            g.dashboard_user, name=body.name, prefix=key_prefix(svc.settings.is_production), now=svc.clock.now()
        )
    except Conflict as exc:
        return _new_key_page(form_id, error=f"The key was not created: {exc}.", status=409)
    session["spent_forms"] = [*session.get("spent_forms", []), form_id][-SPENT_FORMS_KEPT:]
    # Not a redirect: the key must not outlive this response (no-store), nor sit in a cookie.
    return _keys_page(created=key, secret=secret)


@bp.post("/<key_id>/revoke")
@require_permission(API_KEYS_MANAGE)
def revoke_key(key_id: str) -> Response:
    """Revoke a key the caller may manage (404 otherwise), effective at once everywhere."""
    svc = services()
    key = svc.api_keys.revoke(_visible_key(key_id), svc.clock.now())
    flash(f"Revoked “{key.name}”. Requests that use it are refused from now on.", "success")
    return redirect(url_for(".list_keys"), 303)


def _keys_page(created: ApiKey | None = None, secret: str | None = None) -> Response:
    principal = current_principal()
    svc = services()
    # The same visibility as GET /api/v1/api-keys: a member's own keys, an admin's whole tenant.
    created_by = None if principal.can(USERS_MANAGE) else principal.user_id
    keys = svc.api_keys.list_for_tenant(principal.tenant_id, created_by=created_by)
    if created is not None and all(key.key_id != created.key_id for key in keys):
        keys.append(created)  # the tenant index is eventually consistent
    now = svc.clock.now()
    rows = [(key_out(key, now), key.creator_username) for key in keys]
    # Active keys first, newest first within each group (sorts are stable).
    rows.sort(key=lambda row: row[0].created_at, reverse=True)
    rows.sort(key=lambda row: row[0].status != "active")
    html = render_template(
        "dashboard/api_keys.html",
        section="api_keys",
        rows=rows,
        show_owner=principal.can(USERS_MANAGE),
        created=key_out(created, now) if created else None,
        secret=secret,
    )
    return Response(html, mimetype="text/html")


def _new_key_page(form_id: str, error: str | None = None, status: int = 200) -> Response:
    name = request.form.get("name", "") if request.method == "POST" else ""
    html = render_template("dashboard/new_key.html", section="api_keys", form_id=form_id, error=error, name=name)
    return Response(html, status=status, mimetype="text/html")
