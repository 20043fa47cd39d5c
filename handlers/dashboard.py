"""The web dashboard under /dashboard: log in, Settings, API Keys, Users, log out.

Server-rendered pages over the same repositories and rules as the API (see ``dashboard_keys`` and
``dashboard_users``). The session and CSRF tokens are in ``dashboard_session``; the security headers
and error pages in ``dashboard_pages``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, flash, g, redirect, render_template, request, session, url_for
from pydantic import ValidationError

from handlers import dashboard_keys, dashboard_users
from handlers.auth import BAD_CREDENTIALS, check_credentials
from handlers.dashboard_pages import (
    STATIC_FOLDER,
    display_clock,
    display_date,
    finish_dashboard_response,
    page_context,
)
from handlers.dashboard_session import (
    CSRF_REFUSED,
    URL_PREFIX,
    DashboardSessionInterface,
    check_csrf,
    check_login_csrf,
    delete_login_csrf_cookie,
    end_session,
    had_session,
    login_csrf_token,
    session_principal,
    session_user,
    set_login_csrf_cookie,
    start_session,
)
from handlers.rate_limits import client_ip, limiter
from handlers.schemas import LoginRequest
from handlers.services import services
from models.keys import username_key
from models.roles import API_KEYS_MANAGE, permissions_for
from models.users import User

bp = Blueprint("dashboard", __name__, url_prefix=URL_PREFIX, static_folder=STATIC_FOLDER, static_url_path="/static")
bp.register_blueprint(dashboard_keys.bp)
bp.register_blueprint(dashboard_users.bp)

# Pages anyone may open; every other one needs a live session, and every POST a CSRF token.
PUBLIC_ENDPOINTS = frozenset({"dashboard.index", "dashboard.login_page", "dashboard.login", "dashboard.static"})
# flask-limiter names a route's limit "<endpoint>:<scope>": shared limits under the API login's names
# count in the same buckets, so the dashboard is no second door for password guessing.
API_LOGIN_IP_SCOPE = "auth.login:login-ip"
API_LOGIN_FAILURES_SCOPE = "auth.login:login-failures"


def init_dashboard(app: Flask) -> None:
    """Serve the dashboard: its blueprint, its cookie session, and its headers and error pages."""
    app.session_interface = DashboardSessionInterface()
    app.register_blueprint(bp)
    app.add_template_filter(display_date, "dashboard_date")
    app.add_template_filter(display_clock, "dashboard_clock")
    app.after_request(finish_dashboard_response)


@bp.before_request
def _require_session() -> Response | None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = session_user()
    if user is None:
        # Nothing is changed by a request without a live session, POST or not.
        if had_session():
            session.clear()
            flash("Your session has ended. Log in again to continue.", "info")
        return redirect(url_for("dashboard.index"), 303)
    g.dashboard_principal = g.principal = session_principal(user)
    if request.method == "POST":
        check_csrf()
    return None


@bp.context_processor
def _template_context() -> dict[str, Any]:
    return page_context()


@bp.get("")
def index() -> Response:
    """The login page, or the API Keys page for someone logged in."""
    user = session_user()
    if user is not None:
        return redirect(_home_url(user))
    return _login_page()


@bp.get("/login")
def login_page() -> Response:
    """A bookmarked /dashboard/login goes where /dashboard does."""
    return redirect(url_for("dashboard.index"))


@bp.post("/login")
@limiter.shared_limit(lambda: services().settings.login_ip_rate_limit, scope=API_LOGIN_IP_SCOPE, key_func=client_ip)
@limiter.shared_limit(
    lambda: services().settings.login_failure_rate_limit,
    scope=API_LOGIN_FAILURES_SCOPE,
    key_func=lambda: _login_username(),
    # Only failed attempts count, as on the API's login.
    deduct_when=lambda response: response.status_code == 401,
)
def login() -> Response:
    """Check the form's username and password with the API's own rules; start a session on success."""
    if not check_login_csrf():
        return _login_page(CSRF_REFUSED, status=403)
    try:
        body = LoginRequest(username=request.form.get("username", ""), password=request.form.get("password", ""))
    except ValidationError:
        return _login_page("Enter your username and password.", status=400)
    user = check_credentials(body.username, body.password)
    if user is None:
        return _login_page(BAD_CREDENTIALS, status=401)
    start_session(user)
    g.log_tenant = user.tenant_id
    response = redirect(_home_url(user), 303)
    delete_login_csrf_cookie(response)
    return response


@bp.post("/logout")
def logout() -> Response:
    """End the session server-side (its id is revoked) and go back to the login page."""
    end_session()
    flash("You have logged out.", "success")
    return redirect(url_for("dashboard.index"), 303)


@bp.get("/settings")
def settings() -> str:
    """Account details and the way to API Keys (and Users, for admins)."""
    return render_template("dashboard/settings.html", section="overview")


def _home_url(user: User) -> str:
    # Viewers cannot manage keys: Settings, rather than a 403 page, is where they land.
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


def _login_username() -> str:
    username = request.form.get("username", "")
    # The same bucket names as the API's login (handlers/auth.py), so failures add up across both.
    return f"user:{username_key(username)}" if username else f"ip:{client_ip()}"
