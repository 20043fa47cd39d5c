"""The dashboard's own pages: log in, log out, Settings; and the session check before every page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, session, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from handlers.dashboard.login_csrf import (
    check_login_csrf,
    delete_login_csrf_cookie,
    login_csrf_token,
    set_login_csrf_cookie,
)
from handlers.dashboard.pages import STATIC_FOLDER, page_context
from handlers.dashboard.session import (
    CSRF_REFUSED,
    URL_PREFIX,
    check_csrf,
    end_session,
    had_session,
    pending_login,
    session_user,
    start_second_step,
    start_session,
)
from handlers.ratelimit import login_limits, slow_down_if_targeted
from handlers.web.audit import own_account_event, record_login
from handlers.web.context import repositories, request_state
from handlers.web.principal import current_principal
from models.accounts.credentials import BAD_CREDENTIALS, check_login
from models.accounts.inputs import Credentials
from models.accounts.principal import Principal
from models.audit_record import AuditEvent
from models.roles import API_KEYS_MANAGE, permissions_for
from models.users import User

# Sign-ins shown on Settings → Account: enough to notice one that was not you.
RECENT_SIGN_INS = 5

bp = Blueprint(
    "dashboard",
    __name__,
    url_prefix=URL_PREFIX,
    static_folder=STATIC_FOLDER,
    static_url_path="/static",
    template_folder="templates",
)

# Pages anyone may open; every other one needs a live session, and every POST a CSRF token.
PUBLIC_ENDPOINTS = frozenset(
    {
        "dashboard.index",
        "dashboard.login_page",
        "dashboard.login",
        "dashboard.static",
        # The code step of a two-factor login (login_code.py): it checks its own signed state.
        "dashboard.login_code.code_page",
        "dashboard.login_code.check_code",
        "dashboard.login_code.restart",
    }
)
# What a user whose organisation requires two-factor, and who has not turned it on, may still reach.
ENROLMENT_ENDPOINTS = frozenset(
    {
        "dashboard.two_factor.setup",
        "dashboard.two_factor.start",
        "dashboard.two_factor.confirm",
        "dashboard.logout",
    }
)


@bp.before_request
def _require_session() -> BaseResponse | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = session_user()
    if user is None:
        # Nothing is changed by a request without a live session, POST or not.
        if had_session():
            session.clear()
            flash("Your session has ended. Log in again to continue.", "info")
        return redirect(url_for("dashboard.index"), 303)
    request_state().principal = Principal.of_user(user, "session")
    if request.method == "POST":
        check_csrf()
    if (
        not user.mfa_enabled
        and request.endpoint not in ENROLMENT_ENDPOINTS
        and repositories().tenant_cache.requires_mfa(user.tenant_id)
    ):
        # Before anything else: the organisation has said a password alone is not enough.
        return redirect(url_for("dashboard.two_factor.setup"), 303)
    return None


@bp.context_processor
def _template_context() -> dict[str, Any]:
    return page_context()


@bp.get("")
def index() -> BaseResponse:
    """The login page, or the API Keys page for someone logged in."""
    user = session_user()
    if user is not None:
        return redirect(home_url(user))
    if pending_login() is not None:
        # Back from the code page: the password step is not re-entered; "Start over" leaves it.
        return redirect(url_for("dashboard.login_code.code_page"), 303)
    return _login_page()


@bp.get("/login")
def login_page() -> BaseResponse:
    """A bookmarked /dashboard/login goes where /dashboard does."""
    return redirect(url_for("dashboard.index"))


@bp.post("/login")
@login_limits(lambda: request.form.get("username", ""))
def login() -> BaseResponse:
    """Check the form's username and password with the API's own rules; start a session on success."""
    if not check_login_csrf():
        return _login_page(CSRF_REFUSED, status=403)
    if pending_login() is not None and session_user() is None:
        # A password was right and its code is due: another password is not taken until "Start over".
        return redirect(url_for("dashboard.login_code.code_page"), 303)
    try:
        body = Credentials(username=request.form.get("username", ""), password=request.form.get("password", ""))
    except ValidationError:
        return _login_page("Enter your username and password.", status=400)
    slow_down_if_targeted(body.username)
    checked = check_login(repositories().users, body.username, body.password)
    user = checked.user
    if user is None:
        if checked.account is not None:
            record_login(checked.account, body.username, succeeded=False, via="dashboard")
        return _login_page(BAD_CREDENTIALS, status=401)
    request_state().log_tenant = user.tenant_id
    if user.mfa_enabled:
        # Not signed in yet: the code comes on a page of its own, which the login is recorded by.
        start_second_step(user)
        return redirect(url_for("dashboard.login_code.code_page"), 303)
    record_login(user, body.username, succeeded=True, via="dashboard")
    start_session(user)
    response = redirect(home_url(user), 303)
    delete_login_csrf_cookie(response)
    return response


@bp.post("/logout")
def logout() -> BaseResponse:
    """End the session server-side (its id is revoked) and go back to the login page."""
    user = session_user()
    events = [_signed_out(user, "auth.logout")] if user is not None else []
    end_session(audit=events)
    flash("You have logged out.", "success")
    return redirect(url_for("dashboard.index"), 303)


@bp.get("/settings")
def settings() -> Response:
    """Account details, your recent sign-ins, and the way to API Keys (and Users, for admins)."""
    return settings_page()


def settings_page(status: int = 200, **extra: Any) -> Response:
    """The Settings → Account page, with ``extra`` template values (a form's problems) and this status."""
    principal = current_principal()
    sign_ins = repositories().audit.page(
        principal.tenant_id, limit=RECENT_SIGN_INS, action="auth.login_succeeded", actor_id=principal.user_id
    )
    account = session_user()
    html = render_template(
        "dashboard/settings.html",
        section="overview",
        sign_ins=sign_ins.items,
        two_factor_on=account is not None and account.mfa_enabled,
        recovery_codes_left=len(account.mfa_recovery) if account is not None else 0,
        **extra,
    )
    return Response(html, status=status, mimetype="text/html")


@bp.post("/settings/sign-out-everywhere")
def sign_out_everywhere() -> BaseResponse:
    """End every session and refresh token of the user (this one too), then back to the login page."""
    user = session_user()
    if user is not None:
        repositories().users.end_sessions(user, audit=[_signed_out(user, "auth.logout_all")])
    end_session()
    flash("You have signed out everywhere: every session and app login of your account has ended.", "success")
    return redirect(url_for("dashboard.index"), 303)


def _signed_out(user: User, action: str) -> AuditEvent:
    return own_account_event(action, user, auth="session", via="dashboard")


def home_url(user: User) -> str:
    """Where a signed-in user lands: API Keys, or Settings for a viewer (who cannot manage keys)."""
    if API_KEYS_MANAGE in permissions_for(user.role):
        return url_for("dashboard.api_keys.list_keys")
    return url_for("dashboard.settings")


def _login_page(error: str | None = None, status: int = 200) -> Response:
    token, new = login_csrf_token()
    username = request.form.get("username", "") if request.method == "POST" else ""
    html = render_template("dashboard/login.html", error=error, login_csrf_token=token, username=username)
    response = Response(html, status=status, mimetype="text/html")
    if new:
        set_login_csrf_cookie(response, token)
    return response
