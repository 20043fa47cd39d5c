"""Settings → Account → Change password, through Flask's test client: the same rules as POST /me/password."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from handlers.dashboard.session import SESSION_COOKIE
from models.passwords import hash_password
from tests.conftest import PASSWORD, bearer, dashboard_login, repositories_of
from tests.dashboard.test_dashboard_pages import field, page

SETTINGS = "/dashboard/settings"
FORM = "/dashboard/settings/password"
NEW_PASSWORD = "a brand new passphrase"


def signed_in(client: FlaskClient, username: str = "alice", password: str = PASSWORD) -> str:
    """Log in on the dashboard; the Settings page's CSRF token."""
    assert dashboard_login(client, username, password).status_code == 303
    return field(page(client.get(SETTINGS)), "csrf_token")


def change(
    client: FlaskClient, csrf: str, current: str = PASSWORD, new: str = NEW_PASSWORD, confirm: str | None = None
):
    """Submit the Change password form."""
    data = {"csrf_token": csrf, "current_password": current, "new_password": new, "confirm_password": confirm or new}
    return client.post(FORM, data=data)


def api_login(client: FlaskClient, password: str, username: str = "alice") -> int:
    """The status of an API login with this password."""
    return client.post("/api/v1/auth/login", json={"username": username, "password": password}).status_code


def test_settings_has_the_change_password_form(client, make_user):
    make_user("alice", role="viewer")  # every role may change their own password
    signed_in(client)
    html = page(client.get(SETTINGS))
    form = html[html.index('id="change-password"') :]
    assert f'action="{FORM}"' in form and 'name="csrf_token"' in form
    for name, autocomplete in (
        ("current_password", "current-password"),
        ("new_password", "new-password"),
        ("confirm_password", "new-password"),
    ):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', form, re.S)
        assert tag and 'type="password"' in tag[0] and f'autocomplete="{autocomplete}"' in tag[0], name
    for label in ("Current password", "New password", "Confirm new password"):
        assert f">{label}</label>" in form


def test_a_change_keeps_this_session_and_ends_every_other_one(app: Flask, client, make_user, login):
    api_tokens = login(make_user("alice", role="member"))
    other_browser = app.test_client()
    signed_in(other_browser)
    csrf = signed_in(client)
    before = client.get_cookie(SESSION_COOKIE, path="/dashboard")

    response = change(client, csrf)

    assert response.status_code == 303 and response.location == SETTINGS
    html = page(client.get(SETTINGS))  # this browser carries on ...
    assert "Your password has been changed" in html
    assert field(html, "csrf_token") != csrf  # ... with a renewed session and CSRF token
    assert other_browser.get(SETTINGS).status_code == 303  # the other browser is out
    copy = app.test_client()
    copy.set_cookie(SESSION_COOKIE, before.value, path="/dashboard")
    assert copy.get(SETTINGS).status_code == 303  # and so is a copy of this browser's cookie from before
    refresh = client.post("/api/v1/auth/refresh", headers=bearer(api_tokens["refresh_token"]))
    assert refresh.status_code == 401  # and the app's refresh token
    assert api_login(client, PASSWORD) == 401 and api_login(client, NEW_PASSWORD) == 200


def test_a_change_through_the_api_ends_dashboard_sessions(app: Flask, client, make_user, login):
    alice = make_user("alice", role="member")
    browser = app.test_client()
    signed_in(browser)
    body = {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    changed = client.post("/api/v1/me/password", json=body, headers=bearer(login(alice)["access_token"]))
    assert changed.status_code == 200
    assert browser.get(SETTINGS).status_code == 303
    assert "Your session has ended" in page(browser.get("/dashboard"))


@pytest.mark.parametrize(
    ("current", "new", "confirm", "status", "message"),
    [
        ("not my password", NEW_PASSWORD, None, 401, "The current password is not correct."),
        (PASSWORD, "short one", None, 400, "New password: Value error, The password must be at least 12 characters"),
        (PASSWORD, "1qaz2wsx3edc", None, 400, "is one of the most common passwords"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "!", 400, "New password and its confirmation differ"),
        (PASSWORD, PASSWORD, None, 400, "The new password must differ from the current one."),
        ("", NEW_PASSWORD, None, 400, "Current password: String should have at least 1 character"),
    ],
)
def test_refused_changes_show_why_and_change_nothing(app, client, make_user, current, new, confirm, status, message):
    make_user("alice", role="member")
    other_browser = app.test_client()
    signed_in(other_browser)
    csrf = signed_in(client)

    html = page(change(client, csrf, current, new, confirm), status)

    assert "Your password was not changed." in html and message in html
    for typed in {current, new, confirm} - {None, ""}:
        assert f'value="{typed}"' not in html  # no password is put back into the page
    assert other_browser.get(SETTINGS).status_code == 200  # no session ended
    assert page(client.get(SETTINGS))
    assert api_login(client, PASSWORD) == 200


def test_the_form_needs_its_csrf_token(client, make_user):
    make_user("alice", role="member")
    signed_in(client)
    assert "not sent from this dashboard page" in page(change(client, "forged" * 8), 403)
    assert api_login(client, PASSWORD) == 200


def test_without_a_session_the_form_changes_nothing(client, make_user):
    make_user("alice", role="member")
    response = client.post(FORM, data={"current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 303 and response.location == "/dashboard"
    assert api_login(client, PASSWORD) == 200


def test_wrong_current_passwords_count_with_failed_logins(app_with):
    app = app_with(login_failure_rate_limit="2 per 15 minutes")
    repos = repositories_of(app)
    repos.tenants.create("acme")
    repos.users.create("acme", "alice", hash_password(PASSWORD), "member")
    client = app.test_client()
    csrf = signed_in(client)
    for _ in range(2):
        page(change(client, csrf, current="a wrong guess"), 401)
    assert "Too many requests" in page(change(client, csrf), 429)  # even the right one, from here, for now
    assert api_login(client, PASSWORD) == 429  # the API's login shares the bucket
    assert client.get(SETTINGS).status_code == 200  # the session itself goes on
