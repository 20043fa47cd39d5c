"""Settings → Account → Two-factor: set up an authenticator app (QR code), see recovery codes once, turn it off.

The same rules as ``/me/mfa/totp``: a secret is active only once a current code of it is confirmed;
the ten recovery codes are shown on the confirmation's page and never again; turning it off needs
the password and a code, and counts in the login limits like a login. The QR code is an SVG drawn
here (segno) into a ``data:`` URI, so the page needs no script and the CSP stays ``img-src 'self' data:``.
"""

from __future__ import annotations

import segno
from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from handlers.dashboard.session import session_user
from handlers.dashboard.views import home_url, settings_page
from handlers.ratelimit import login_limits, slow_down_if_targeted
from handlers.web.audit import own_account_event
from handlers.web.context import repositories
from models.audit_record import AuditEvent
from models.mfa import UndecryptableSecret
from models.mfa_repository import Enrolment, InvalidCode
from models.passwords import verify_password
from models.store.errors import Conflict
from models.users import User

bp = Blueprint("two_factor", __name__, url_prefix="/settings/two-factor")

ALREADY_ON = "Two-factor authentication is already on."
ENABLED = "Two-factor authentication is on. From now on you sign in with your password and a code."
DISABLED = "Two-factor authentication is off. You sign in with your password alone."
WRONG_SETUP_CODE = "That code does not match: check the app's clock and enter the code it shows now."
WRONG_DISABLE = "The password or the code is wrong. Two-factor authentication is still on."
# A QR module size that scans well from a laptop screen (about 200 px for an otpauth URI).
QR_SCALE = 4


def _session_username() -> object:
    user = session_user()
    return user.username if user is not None else None


@bp.get("")
def setup() -> BaseResponse:
    """The set-up page: a button to begin, or the QR code and secret of the enrolment begun, with the code form."""
    user = _signed_in()
    if user.mfa_enabled:
        return redirect(url_for("dashboard.settings", _anchor="two-factor"), 303)
    return _setup_page(user, repositories().mfa.pending_enrolment(user))


@bp.post("/start")
def start() -> BaseResponse:
    """Begin (or begin again) setting up an authenticator: a new secret, not active until a code confirms it."""
    user = _signed_in()
    try:
        repositories().mfa.start_enrolment(user)
    except Conflict:
        flash(ALREADY_ON, "info")
        return redirect(url_for("dashboard.settings", _anchor="two-factor"), 303)
    return redirect(url_for("dashboard.two_factor.setup"), 303)


@bp.post("/confirm")
def confirm() -> BaseResponse:
    """Turn two-factor on with a current code of the new secret; the recovery codes are on this page only."""
    user = _signed_in()
    if user.mfa_enabled:
        flash(ALREADY_ON, "info")
        return redirect(url_for("dashboard.settings", _anchor="two-factor"), 303)
    code = request.form.get("code", "").strip()
    try:
        codes = repositories().mfa.confirm(user, code, audit=[_event("mfa.enabled", user)])
    except InvalidCode:
        enrolment = repositories().mfa.pending_enrolment(user)
        if enrolment is None:
            return redirect(url_for("dashboard.two_factor.setup"), 303)
        return _setup_page(user, enrolment, error=WRONG_SETUP_CODE, status=400)
    except Conflict:
        flash("The set-up changed in another window meanwhile. Scan the code below.", "info")
        return redirect(url_for("dashboard.two_factor.setup"), 303)
    except UndecryptableSecret:
        # Begun under a key since changed: the set-up page offers to begin again (which replaces it).
        flash("That set-up can no longer be completed. Begin again.", "info")
        return redirect(url_for("dashboard.two_factor.setup"), 303)
    flash(ENABLED, "success")
    html = render_template(
        "dashboard/recovery_codes.html", section="overview", recovery_codes=codes, continue_url=home_url(user)
    )
    return Response(html, mimetype="text/html")


@bp.post("/disable")
@login_limits(_session_username)
def disable() -> BaseResponse:
    """Turn two-factor off with the password and a current code (or a recovery code)."""
    user = _signed_in()
    if not user.mfa_enabled:
        return redirect(url_for("dashboard.settings", _anchor="two-factor"), 303)
    slow_down_if_targeted(user.username)
    code = request.form.get("code", "").strip()
    if not verify_password(user.password_hash, request.form.get("password", "")) or not code:
        return settings_page(401, two_factor_errors=[WRONG_DISABLE])  # a 401 counts as a failed login
    try:
        repositories().mfa.disable(user, code, audit=[_event("mfa.disabled", user)])
    except InvalidCode:
        return settings_page(401, two_factor_errors=[WRONG_DISABLE])
    flash(DISABLED, "success")
    return redirect(url_for("dashboard.settings", _anchor="two-factor"), 303)


def _signed_in() -> User:
    # The blueprint's session check has run: every view here has a live session's user.
    user = session_user()
    if user is None:
        raise RuntimeError("two-factor views run only behind the dashboard's session check")
    return user


def _setup_page(user: User, enrolment: Enrolment | None, error: str | None = None, status: int = 200) -> Response:
    qr = segno.make(enrolment.otpauth_uri, error="m").svg_data_uri(scale=QR_SCALE) if enrolment else None
    html = render_template(
        "dashboard/two_factor.html",
        section="overview",
        enrolment=enrolment,
        qr_code=qr,
        required=repositories().tenant_cache.requires_mfa(user.tenant_id),
        error=error,
    )
    return Response(html, status=status, mimetype="text/html")


def _event(action: str, user: User) -> AuditEvent:
    return own_account_event(action, user, auth="session", via="dashboard")
