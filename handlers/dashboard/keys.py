"""Settings → API Keys: list (paged, filtered by status), generate, roll and revoke — with the API's own rules."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from handlers.dashboard.paging import PAGE_SIZE, page_request, shown_page
from handlers.web.audit import key_created, key_revoked, key_rotated
from handlers.web.context import repositories
from handlers.web.errors import InvalidRequest
from handlers.web.principal import current_principal, require_permission
from handlers.web.schemas import KEYS_CURSOR
from models.accounts.inputs import NewApiKeyName
from models.accounts.key_access import rotatable_key, visible_key, visible_keys_page
from models.accounts.principal import Principal
from models.api_key_record import KEY_STATUSES, ApiKey, KeyStatus
from models.api_keys import MAX_GRACE_SECONDS
from models.key_format import key_prefix
from models.roles import API_KEYS_MANAGE
from models.store.errors import Conflict
from models.store.item_keys import is_api_key_id

bp = Blueprint("api_keys", __name__, url_prefix="/settings/api-keys")

FORM_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# Ids of generate and roll forms already used, so a resubmitted form (a reload) mints no second key.
SPENT_FORMS_KEPT = 20
# When a rolled key stops, as Stripe offers it: seconds of grace (the API's grace_seconds) and a label.
ROLL_CHOICES = {0: "Now", 3600: "In 1 hour", 86400: "In 24 hours", MAX_GRACE_SECONDS: "In 7 days"}
ROLL_DEFAULT = 3600
ROLLED_ALREADY = "This key was already rolled: it works until the time shown on API Keys. Roll its replacement instead."
NOT_ACTIVE = "Only an active key can be rolled."
STATUS_FILTERS = (None, *KEY_STATUSES)


@dataclass(frozen=True)
class KeyRow:
    """One key as the API Keys page shows it (never the key or its digest)."""

    id: str
    name: str
    prefix: str
    owner: str
    created_at: str
    last_used_at: str | None
    expires_at: str | None
    status: str
    # Active and idle for 30 days or more: flagged, with a one-click revoke.
    unused: bool
    # Only the owner rolls a key (rotatable_key). Whether it was rolled already is not in the tenant
    # index (rotated keys carry replaced_by in their own item only): the roll form reads that.
    can_roll: bool

    @classmethod
    def of(cls, key: ApiKey, now: datetime, principal: Principal) -> KeyRow:
        """The row of ``key`` as ``principal`` sees it, with its status at ``now``."""
        status = key.status(now)
        return cls(
            id=key.key_id,
            name=key.name,
            prefix=key.prefix_hint,
            owner=key.creator_username,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            expires_at=key.expires_at,
            status=status,
            unused=status == "active" and key.is_unused(now),
            can_roll=status == "active" and key.created_by == principal.user_id,
        )


@bp.get("")
@require_permission(API_KEYS_MANAGE)
def list_keys() -> Response:
    """The caller's keys (an admin's: the tenant's), newest first, a page at a time, filtered by ``?status=``."""
    return _keys_page()


@bp.get("/new")
@require_permission(API_KEYS_MANAGE)
def new_key() -> Response:
    """Ask for the new key's name."""
    return _new_key_page(secrets.token_urlsafe(16))


@bp.post("")
@require_permission(API_KEYS_MANAGE)
def create_key() -> BaseResponse:
    """Mint a key exactly as POST /api/v1/api-keys does and show it in this response only."""
    form_id = _unspent_form_id()
    if form_id is None:
        return redirect(url_for(".list_keys"), 303)
    try:
        body = NewApiKeyName(name=request.form.get("name", ""))
    except ValidationError:
        return _new_key_page(form_id, error="Give the key a name of 1 to 100 characters.", status=400)
    repos = repositories()
    try:
        key, secret = repos.api_keys.create(
            current_principal().as_user(),
            name=body.name,
            prefix=key_prefix(repos.settings.is_production),
            now=repos.now(),
            audit=[key_created(body.name)],
        )
    except Conflict as exc:
        return _new_key_page(form_id, error=f"The key was not created: {exc}.", status=409)
    _spend(form_id)
    # Not a redirect: the key must not outlive this response (no-store), nor sit in a cookie.
    return _keys_page(created=key, secret=secret)


@bp.get("/<key_id>/roll")
@require_permission(API_KEYS_MANAGE)
def roll_form(key_id: str) -> Response:
    """Ask when the old key should stop; only its owner may roll it (as POST /api-keys/<id>/rotate)."""
    repos = repositories()
    key = rotatable_key(repos.api_keys, current_principal(), key_id)
    if key.replaced_by is not None or key.status(repos.now()) != "active":
        # The same refusal the rotation itself would give, before anyone fills the form in.
        return _roll_page(key, None, error=ROLLED_ALREADY if key.replaced_by else NOT_ACTIVE, status=409)
    return _roll_page(key, secrets.token_urlsafe(16))


@bp.post("/<key_id>/roll")
@require_permission(API_KEYS_MANAGE)
def roll_key(key_id: str) -> BaseResponse:
    """Replace a key with a new one (shown once) by the API's rotation; the old one stops when chosen."""
    repos = repositories()
    old = rotatable_key(repos.api_keys, current_principal(), key_id)
    form_id = _unspent_form_id()
    if form_id is None:
        return redirect(url_for(".list_keys"), 303)
    grace = {str(seconds): seconds for seconds in ROLL_CHOICES}.get(request.form.get("expires_in", ""))
    if grace is None:
        return _roll_page(old, form_id, error="Choose when the old key stops working.", status=400)
    try:
        key, secret = repos.api_keys.rotate(
            old,
            grace_seconds=grace,
            prefix=key_prefix(repos.settings.is_production),
            now=repos.now(),
            audit=[key_rotated(old, grace)],
        )
    except Conflict as exc:
        return _roll_page(old, form_id, error=f"The key was not rolled: {exc}.", status=409)
    _spend(form_id)
    return _keys_page(created=key, secret=secret, replaced=repos.api_keys.get_in_tenant(old.tenant_id, old.key_id))


@bp.post("/<key_id>/revoke")
@require_permission(API_KEYS_MANAGE)
def revoke_key(key_id: str) -> BaseResponse:
    """Revoke a key the caller may manage (404 otherwise), effective at once everywhere."""
    repos = repositories()
    key = visible_key(repos.api_keys, current_principal(), key_id)
    key = repos.api_keys.revoke(key, repos.now(), audit=[key_revoked(key)])
    flash(f"Revoked “{key.name}”. Requests that use it are refused from now on.", "success")
    return redirect(url_for(".list_keys", status=request.args.get("status") or None), 303)


def _keys_page(created: ApiKey | None = None, secret: str | None = None, replaced: ApiKey | None = None) -> Response:
    principal = current_principal()
    repos = repositories()
    status = _status_filter()
    asked = page_request(principal.tenant_id, KEYS_CURSOR, is_api_key_id)
    now = repos.now()
    # The same visibility as GET /api/v1/api-keys: a member's own keys, an admin's whole tenant.
    page = visible_keys_page(
        repos.api_keys,
        principal,
        now=now,
        limit=PAGE_SIZE,
        after=asked.after,
        status=status,
        newest_first=not asked.backwards,
    )
    shown = shown_page(asked, page, lambda key: key.key_id, ".list_keys", status=status)
    keys = shown.rows
    if created is not None and shown.is_first and all(key.key_id != created.key_id for key in keys):
        keys = [created, *keys]  # the tenant index is eventually consistent
    html = render_template(
        "dashboard/api_keys.html",
        section="api_keys",
        rows=[KeyRow.of(key, now, principal) for key in keys],
        pages=shown,
        status=status,
        status_filters=STATUS_FILTERS,
        show_owner=principal.manages_users,
        created=KeyRow.of(created, now, principal) if created else None,
        replaced=KeyRow.of(replaced, now, principal) if replaced else None,
        secret=secret,
    )
    return Response(html, mimetype="text/html")


def _status_filter() -> KeyStatus | None:
    value = request.args.get("status") or None
    for status in KEY_STATUSES:
        if value == status:
            return status
    if value is not None:
        raise InvalidRequest("Filter by status active, revoked or expired")
    return None


def _unspent_form_id() -> str | None:
    # The one-time id of a generate or roll form; None (with a flash) when it was already submitted.
    form_id = request.form.get("form_id", "")
    if not FORM_ID_PATTERN.match(form_id):
        raise InvalidRequest("The form is incomplete. Open it again.")
    if form_id in session.get("spent_forms", []):
        flash(
            "That form was already submitted, and its key is never shown twice. "
            "If you did not copy it, revoke it and generate a new one.",
            "warning",
        )
        return None
    return form_id


def _spend(form_id: str) -> None:
    session["spent_forms"] = [*session.get("spent_forms", []), form_id][-SPENT_FORMS_KEPT:]


def _new_key_page(form_id: str, error: str | None = None, status: int = 200) -> Response:
    name = request.form.get("name", "") if request.method == "POST" else ""
    html = render_template("dashboard/new_key.html", section="api_keys", form_id=form_id, error=error, name=name)
    return Response(html, status=status, mimetype="text/html")


def _roll_page(key: ApiKey, form_id: str | None, error: str | None = None, status: int = 200) -> Response:
    chosen = request.form.get("expires_in", str(ROLL_DEFAULT)) if request.method == "POST" else str(ROLL_DEFAULT)
    html = render_template(
        "dashboard/roll_key.html",
        section="api_keys",
        key=KeyRow.of(key, repositories().now(), current_principal()),
        form_id=form_id,
        choices=ROLL_CHOICES,
        chosen=chosen,
        error=error,
    )
    return Response(html, status=status, mimetype="text/html")
