"""Settings → Account → Change password: the same rules as ``POST /me/password``, as a form.

The current password is checked as a login's is, and counts in the same limits (a wrong one is a
failed login of this username from this IP). On success every other dashboard session and refresh
token of the account ends, and this browser carries on with a renewed session.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, request, url_for
from pydantic import ValidationError
from werkzeug.wrappers import Response as BaseResponse

from handlers.dashboard.session import continue_session, session_user
from handlers.dashboard.views import settings_page
from handlers.ratelimit import login_limits, slow_down_if_targeted
from handlers.web.audit import password_changed
from handlers.web.context import repositories
from handlers.web.endpoint import validation_details
from models.accounts.inputs import PasswordChange
from models.accounts.password_change import SamePassword, WrongCurrentPassword, change_own_password

bp = Blueprint("password", __name__, url_prefix="/settings/password")

FIELD_LABELS = {"current_password": "Current password", "new_password": "New password"}
CONFIRMATION_DIFFERS = "New password and its confirmation differ: type the same new password twice."
CHANGED = "Your password has been changed. Every other dashboard session and app sign-in of your account has ended."


def _session_username() -> object:
    # The login limits' key: the signed-in user's (the session was checked before any view runs).
    user = session_user()
    return user.username if user is not None else None


@bp.post("")
@login_limits(_session_username)
def change_password() -> BaseResponse:
    """Change the signed-in user's password; this session continues, every other one ends."""
    user = session_user()
    if user is None:  # the blueprint's session check has already sent such a request to log in
        return redirect(url_for("dashboard.index"), 303)
    form = request.form
    try:
        body = PasswordChange.model_validate(
            {"current_password": form.get("current_password", ""), "new_password": form.get("new_password", "")}
        )
    except ValidationError as exc:
        problems = [
            f"{FIELD_LABELS.get(detail['field'], detail['field'])}: {detail['message']}"
            for detail in validation_details(exc)
        ]
        return _settings_page(problems, 400)
    if form.get("confirm_password", "") != body.new_password:
        return _settings_page([CONFIRMATION_DIFFERS], 400)
    slow_down_if_targeted(user.username)
    try:
        updated = change_own_password(
            repositories().users,
            user,
            body.current_password,
            body.new_password,
            audit=[password_changed(user, via="dashboard")],
        )
    except WrongCurrentPassword as exc:
        return _settings_page([f"{exc}."], 401)  # a 401 counts as a failed login in the limits
    except SamePassword as exc:
        return _settings_page([f"{exc}."], 400)
    continue_session(updated)
    flash(CHANGED, "success")
    return redirect(url_for("dashboard.settings"), 303)


def _settings_page(errors: list[str], status: int) -> Response:
    # The Settings page again, with the problems beside the form; no password is ever put back in it.
    return settings_page(status, password_errors=errors)
