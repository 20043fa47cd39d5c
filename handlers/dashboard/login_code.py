"""The second step of a two-factor dashboard login: the one-time code, on a page of its own.

The password page starts the step (``session.start_second_step``) and sends the browser here. This
page asks only for the code: the password cannot be re-entered or changed from it, and "Start over"
is the one way back. A wrong code is a failed login in the same limits as a wrong password, and a
code (or recovery code) is accepted once, as at the API's login.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from handlers.dashboard.login_csrf import delete_login_csrf_cookie
from handlers.dashboard.session import (
    PendingLogin,
    check_csrf,
    end_session,
    pending_login,
    pending_login_username,
    session_user,
    start_session,
)
from handlers.dashboard.views import home_url
from handlers.ratelimit import login_limits, slow_down_if_targeted
from handlers.web.context import repositories, request_state
from handlers.web.second_factor import sign_in_with_code
from models.accounts.credentials import active_account
from models.mfa_repository import RECOVERY_CODE

bp = Blueprint("login_code", __name__, url_prefix="/login/code")

WRONG_CODE = "That code is not right, or it was already used. Enter the current code from your authenticator app."
STEP_ENDED = "Your sign-in was not completed in time, or has ended. Log in again."
# Longest thing worth checking: a recovery code with its dashes and a few stray spaces.
MAX_CODE_LENGTH = 32


@bp.get("")
def code_page() -> BaseResponse:
    """Ask for the one-time code of the user whose password was just checked."""
    pending = pending_login()
    if pending is None:
        return _start_over(STEP_ENDED)
    return _code_page(pending)


@bp.post("")
@login_limits(pending_login_username)
def check_code() -> BaseResponse:
    """Check the code: right, and the session starts; wrong or used, and it counts as a failed login."""
    pending = pending_login()
    if pending is None:
        return _start_over(STEP_ENDED)
    check_csrf()
    repos = repositories()
    user = active_account(repos.users, pending.username, pending.user_id, pending.tenant_id, pending.generation)
    if user is None or not user.mfa_enabled or user.codes_used_mark != pending.codes_used_mark:
        # Disabled, signed out everywhere, two-factor turned off, or a code used (this step spent) since
        # the password: from the start.
        return _start_over(STEP_ENDED)
    request_state().log_tenant = user.tenant_id
    # As a login's password is: each guess at a code waits once the username is under attack.
    slow_down_if_targeted(user.username)
    code = request.form.get("code", "").strip()
    if not code or len(code) > MAX_CODE_LENGTH:
        return _code_page(pending, "Enter the 6-digit code from your authenticator app, or a recovery code.", 400)
    kind = sign_in_with_code(user, pending.username, code, via="dashboard")
    if kind is None:
        return _code_page(pending, WRONG_CODE, 401)  # a 401 counts as a failed login in the limits
    start_session(user)
    if kind == RECOVERY_CODE:
        left = len(user.mfa_recovery) - 1  # the one just used is gone (no read after the session began)
        flash(
            f"You signed in with a recovery code, which is now used up; {left} remain. "
            "If you lost your authenticator, turn two-factor off and on again in Settings → Account.",
            "warning",
        )
    response = redirect(home_url(user), 303)
    delete_login_csrf_cookie(response)
    return response


@bp.post("/restart")
def restart() -> BaseResponse:
    """Leave the code step and go back to the username and password."""
    if pending_login() is not None:
        check_csrf()
        end_session()
    return redirect(url_for("dashboard.index"), 303)


def _start_over(message: str) -> BaseResponse:
    if session_user() is not None:
        # Signed in already (another tab finished the step): nothing to start over.
        return redirect(url_for("dashboard.index"), 303)
    end_session()
    flash(message, "info")
    return redirect(url_for("dashboard.index"), 303)


def _code_page(pending: PendingLogin, error: str | None = None, status: int = 200) -> Response:
    html = render_template("dashboard/login_code.html", username=pending.username, error=error)
    return Response(html, status=status, mimetype="text/html")
