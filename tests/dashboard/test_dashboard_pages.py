"""The dashboard through Flask's test client: sessions, CSRF, headers, error pages, visibility, users."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from app import create_app
from handlers.dashboard.login_csrf import HTTPS_COOKIE, LOCAL_COOKIE
from handlers.dashboard.session import SESSION_COOKIE
from models.passwords import hash_password
from models.repositories import Repositories
from models.store.tables import create_tables
from tests.conftest import Account, api_key, bearer, dashboard_login, repositories_of

KEY_PATTERN = re.compile(r"nmk_test_[0-9A-Za-z]{36}")
KEYS_PAGE = "/dashboard/settings/api-keys"
USERS_PAGE = "/dashboard/settings/users"


def field(html: str, name: str) -> str:
    """The value of the first hidden/text input called ``name`` in a page."""
    match = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    assert match, f"no {name} field in:\n{html}"
    return match.group(1)


def page(response: TestResponse, status: int = 200) -> str:
    """Assert an HTML page with this status and the dashboard's headers; return its HTML."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert_security_headers(response)
    return response.get_data(as_text=True)


def assert_security_headers(response: TestResponse) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert directives["frame-ancestors"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def set_cookies(response: TestResponse) -> dict[str, str]:
    """The Set-Cookie headers of a response, by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def log_in(client: FlaskClient, account: Account, password: str | None = None) -> TestResponse:
    """Open the login page and submit it (the test client keeps the cookies)."""
    token = field(page(client.get("/dashboard")), "csrf_token")
    return client.post(
        "/dashboard/login",
        data={"csrf_token": token, "username": account.username, "password": password or account.password},
    )


@pytest.fixture
def logged_in(client: FlaskClient) -> Callable[[Account], str]:
    """Log an account in and return the CSRF token of its session."""

    def do(account: Account) -> str:
        response = log_in(client, account)
        assert response.status_code == 303, response.get_data(as_text=True)
        return field(page(client.get(KEYS_PAGE)), "csrf_token")

    return do


def generate(client: FlaskClient, csrf: str, name: str = "billing worker") -> str:
    """Generate a key through the pages; return the page that shows it."""
    form_id = field(page(client.get(f"{KEYS_PAGE}/new")), "form_id")
    return page(client.post(KEYS_PAGE, data={"csrf_token": csrf, "form_id": form_id, "name": name}))


def key_names(repos: Repositories, tenant: str = "acme") -> list[str]:
    return sorted(key.name for key in repos.api_keys.list_for_tenant(tenant))


# --- login and session ---


def test_dashboard_shows_a_login_form_without_starting_a_session(client):
    response = client.get("/dashboard")
    html = page(response)
    assert '<html lang="en">' in html
    assert 'name="username"' in html and 'name="password"' in html and 'type="password"' in html
    assert '<label for="username">' in html and '<label for="password">' in html
    assert response.headers["Cache-Control"] == "no-store"
    cookies = set_cookies(response)
    assert SESSION_COOKIE not in cookies
    login_cookie = cookies[LOCAL_COOKIE]
    assert "HttpOnly" in login_cookie and "SameSite=Strict" in login_cookie and "Path=/dashboard" in login_cookie


@pytest.mark.parametrize("who", ["wrong password", "unknown user", "disabled user"])
def test_failed_logins_show_the_same_error_page_and_start_no_session(client, repos, make_user, who):
    account = make_user("alice", role="member")
    username, password = account.username, account.password
    if who == "wrong password":
        password = "not the password at all"
    elif who == "unknown user":
        username = "nobody-here"
    else:
        repos.users.update(account.user, disabled=True)
    token = field(page(client.get("/dashboard")), "csrf_token")
    response = client.post("/dashboard/login", data={"csrf_token": token, "username": username, "password": password})
    html = page(response, 401)
    assert "Invalid username or password" in html
    assert 'role="alert"' in html and 'name="password"' in html
    assert SESSION_COOKIE not in set_cookies(response)
    assert client.get(KEYS_PAGE).status_code == 303


def test_login_form_without_its_token_is_refused(client, make_user):
    account = make_user("alice", role="member")
    client.get("/dashboard")
    response = client.post("/dashboard/login", data={"username": account.username, "password": account.password})
    assert "not sent from this dashboard page" in page(response, 403)
    assert SESSION_COOKIE not in set_cookies(response)
    assert client.get(KEYS_PAGE).status_code == 303


def test_login_sets_a_strict_httponly_session_cookie_and_lands_on_api_keys(client, make_user):
    response = log_in(client, make_user("alice", role="member"))
    assert response.status_code == 303
    assert response.location == KEYS_PAGE
    cookie = set_cookies(response)[SESSION_COOKIE]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/dashboard" in cookie
    assert "Secure" not in cookie  # APP_ENV=test: plain http://127.0.0.1 must keep working
    assert "Max-Age=0" in set_cookies(response)[LOCAL_COOKIE]
    assert client.get("/dashboard").location == KEYS_PAGE


def test_session_cookie_is_secure_outside_dev_and_test(aws, jwt_secret):
    app = create_app({"environment": "staging", "jwt_secret_key": jwt_secret, "table_prefix": "test-"})
    repos = repositories_of(app)
    create_tables(repos.db)
    repos.tenants.create("acme")
    repos.users.create("acme", "alice", hash_password("correct horse battery staple"), "member")
    client = app.test_client()
    response = client.get("/dashboard")
    login_cookie = set_cookies(response)[HTTPS_COOKIE]  # the __Host- prefix: only this host may set it
    assert "Secure" in login_cookie and "Path=/;" in login_cookie + ";" and "Domain" not in login_cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    token = field(response.get_data(as_text=True), "csrf_token")
    login = client.post(
        "/dashboard/login",
        data={"csrf_token": token, "username": "alice", "password": "correct horse battery staple"},
        base_url="https://localhost",
    )
    assert login.status_code == 303
    assert "Secure" in set_cookies(login)[SESSION_COOKIE]


def test_the_cookie_is_signed_with_a_key_derived_from_the_jwt_secret(aws, client, make_user, logged_in):
    logged_in(make_user("alice", role="member"))
    cookie = client.get_cookie(SESSION_COOKIE, path="/dashboard")
    assert cookie is not None
    # Another deployment (another JWT secret) does not accept it, nor does a tampered copy.
    other = create_app({"environment": "test", "jwt_secret_key": secrets.token_urlsafe(48), "table_prefix": "test-"})
    other_client = other.test_client()
    other_client.set_cookie(SESSION_COOKIE, cookie.value, path="/dashboard")
    assert other_client.get(KEYS_PAGE).status_code == 303
    client.set_cookie(SESSION_COOKIE, cookie.value[:-2] + "xx", path="/dashboard")
    assert client.get(KEYS_PAGE).status_code == 303


def test_logout_ends_the_session_server_side(client, repos, make_user, logged_in):
    csrf = logged_in(make_user("alice", role="member"))
    old_cookie = client.get_cookie(SESSION_COOKIE, path="/dashboard").value
    response = client.post("/dashboard/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.location == "/dashboard"
    assert "You have logged out." in page(client.get("/dashboard"))
    # Replaying the cookie saved before logout opens nothing: its session id is revoked.
    with client.application.test_request_context():
        sid = client.application.session_interface.get_signing_serializer(client.application).loads(old_cookie)["sid"]
    assert repos.revoked_tokens.is_revoked(sid)
    client.set_cookie(SESSION_COOKIE, old_cookie, path="/dashboard")
    response = client.get(KEYS_PAGE)
    assert response.status_code == 303 and response.location == "/dashboard"
    assert "Your session has ended" in page(client.get("/dashboard"))


def test_logout_without_the_csrf_token_is_refused(client, make_user, logged_in):
    logged_in(make_user("alice", role="member"))
    page(client.post("/dashboard/logout"), 403)
    assert client.get(KEYS_PAGE).status_code == 200


def test_sessions_last_eight_hours(client, clock, make_user, logged_in):
    logged_in(make_user("alice", role="member"))
    clock.advance(8 * 3600 - 60)
    assert client.get(KEYS_PAGE).status_code == 200
    clock.advance(61)
    assert client.get(KEYS_PAGE).status_code == 303


def test_a_disabled_user_is_logged_out_and_a_role_change_applies_at_once(client, repos, make_user, logged_in):
    account = make_user("alice", role="member")
    logged_in(account)
    assert USERS_PAGE not in page(client.get("/dashboard/settings"))
    repos.users.update(account.user, role="admin")
    assert USERS_PAGE in page(client.get("/dashboard/settings"))
    repos.users.update(account.user, disabled=True)
    assert client.get("/dashboard/settings").status_code == 303


# --- API keys ---


def test_generated_key_is_shown_once_and_works_on_the_api(client, repos, make_user, logged_in):
    csrf = logged_in(make_user("alice", role="member"))
    form_id = field(page(client.get(f"{KEYS_PAGE}/new")), "form_id")
    response = client.post(KEYS_PAGE, data={"csrf_token": csrf, "form_id": form_id, "name": "billing worker"})
    html = page(response)
    assert response.headers["Cache-Control"] == "no-store"
    keys = KEY_PATTERN.findall(html)
    assert len(set(keys)) == 1
    key = keys[0]
    assert "You will not be able to see it again" in html
    assert SESSION_COOKIE not in set_cookies(response) or key not in set_cookies(response)[SESSION_COOKIE]
    me = client.get("/api/v1/me", headers=api_key(key))
    assert me.status_code == 200 and me.get_json()["auth"] == "api_key"
    assert key not in page(client.get(KEYS_PAGE))
    # Resubmitting the same form (a reload of the POST) mints nothing and shows nothing.
    again = client.post(KEYS_PAGE, data={"csrf_token": csrf, "form_id": form_id, "name": "billing worker"})
    assert again.status_code == 303
    assert not KEY_PATTERN.search(page(client.get(KEYS_PAGE)))
    assert key_names(repos) == ["billing worker"]


def test_a_key_name_is_validated_like_the_api(client, repos, make_user, logged_in):
    csrf = logged_in(make_user("alice", role="member"))
    form_id = field(page(client.get(f"{KEYS_PAGE}/new")), "form_id")
    html = page(client.post(KEYS_PAGE, data={"csrf_token": csrf, "form_id": form_id, "name": "x" * 101}), 400)
    assert "1 to 100 characters" in html
    assert key_names(repos) == []


@pytest.mark.parametrize("token", [None, "", "wrong-token-wrong-token-wrong-token-wrong"])
def test_forms_without_the_right_csrf_token_are_refused_and_change_nothing(client, repos, make_user, logged_in, token):
    admin = make_user("alice", role="admin")
    member = make_user("bob", role="member")
    csrf = logged_in(admin)
    generate(client, csrf, name="keep me")
    kept = repos.api_keys.list_for_tenant("acme")[0]
    extra = {} if token is None else {"csrf_token": token}
    posts: list[tuple[str, dict[str, Any]]] = [
        (KEYS_PAGE, {"form_id": "a" * 22, "name": "forged"}),
        (f"{KEYS_PAGE}/{kept.key_id}/revoke", {}),
        (USERS_PAGE, {"username": "mallory", "password": "a long enough password", "role": "admin"}),
        (f"{USERS_PAGE}/{member.user_id}", {"role": "admin"}),
        (f"{USERS_PAGE}/{member.user_id}", {"disabled": "true"}),
        ("/dashboard/logout", {}),
    ]
    for path, data in posts:
        assert "not sent from this dashboard page" in page(client.post(path, data={**data, **extra}), 403), path
    assert key_names(repos) == ["keep me"]
    assert repos.api_keys.list_for_tenant("acme")[0].revoked_at is None
    assert repos.users.find_by_username("mallory") is None
    bob = repos.users.find_by_username("bob")
    assert (bob.role, bob.disabled) == ("member", False)
    assert client.get(KEYS_PAGE).status_code == 200  # still logged in


def test_members_see_and_revoke_only_their_own_keys_admins_the_tenants(client, repos, make_user, logged_in, make_key):
    alice, bob, carol = (make_user(name, role="member") for name in ("alice", "bob", "carol"))
    make_user("eve", role="admin", tenant="globex")
    admin = make_user("root", role="admin")
    tokens = {}
    for account in (alice, bob, carol):
        tokens[account.username] = client.post(
            "/api/v1/auth/login", json={"username": account.username, "password": account.password}
        ).get_json()["access_token"]
    bobs = make_key(bearer(tokens["bob"]), name="bob's key")
    make_key(bearer(tokens["carol"]), name="carol's key")

    csrf = logged_in(alice)
    generate(client, csrf, name="alice's key")
    html = page(client.get(KEYS_PAGE))
    assert "alice&#39;s key" in html and "bob&#39;s key" not in html and "carol&#39;s key" not in html
    # Another member's key id is a 404 page, and the key stays active.
    assert "not found" in page(client.post(f"{KEYS_PAGE}/{bobs['id']}/revoke", data={"csrf_token": csrf}), 404)
    assert repos.api_keys.get_in_tenant("acme", bobs["id"]).revoked_at is None
    client.post("/dashboard/logout", data={"csrf_token": csrf})

    csrf = logged_in(admin)
    html = page(client.get(KEYS_PAGE))
    assert all(name in html for name in ("alice&#39;s key", "bob&#39;s key", "carol&#39;s key"))
    assert ">Owner<" in html
    response = client.post(f"{KEYS_PAGE}/{bobs['id']}/revoke", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert "Revoked" in page(client.get(KEYS_PAGE))
    assert client.get("/api/v1/me", headers=api_key(bobs["key"])).status_code == 401


def test_viewers_land_on_settings_and_cannot_open_api_keys(client, make_user):
    response = log_in(client, make_user("vic", role="viewer"))
    assert response.status_code == 303 and response.location == "/dashboard/settings"
    html = page(client.get("/dashboard/settings"))
    assert "not manage API keys" in html and KEYS_PAGE not in html
    assert "api_keys:manage" in page(client.get(KEYS_PAGE), 403)


# --- users ---


def test_members_get_a_403_page_for_users(client, make_user, logged_in):
    logged_in(make_user("alice", role="member"))
    assert "Users" not in page(client.get("/dashboard/settings")).split("</nav>")[1]
    assert "users:manage" in page(client.get(USERS_PAGE), 403)
    page(client.post(USERS_PAGE, data={"username": "x"}), 403)


def test_admins_manage_their_tenants_users_only(client, repos, make_user, logged_in):
    admin = make_user("root", role="admin")
    outsider = make_user("eve", role="admin", tenant="globex")
    csrf = logged_in(admin)
    html = page(client.get(USERS_PAGE))
    # Match the username cells: a random CSRF token may contain "eve" by chance.
    assert 'data-label="Username">root ' in html and 'data-label="Username">eve' not in html

    created = client.post(
        USERS_PAGE,
        data={"csrf_token": csrf, "username": "carol", "password": "a long enough password", "role": "member"},
    )
    assert created.status_code == 303
    assert "Created carol (member)" in page(client.get(USERS_PAGE))
    carol = repos.users.find_by_username("carol")
    assert (carol.tenant_id, carol.role) == ("acme", "member")

    assert client.post(f"{USERS_PAGE}/{carol.user_id}", data={"csrf_token": csrf, "role": "admin"}).status_code == 303
    assert repos.users.find_by_username("carol").role == "admin"
    client.post(f"{USERS_PAGE}/{carol.user_id}", data={"csrf_token": csrf, "disabled": "true"})
    assert repos.users.find_by_username("carol").disabled
    client.post(f"{USERS_PAGE}/{carol.user_id}", data={"csrf_token": csrf, "disabled": "false"})
    assert not repos.users.find_by_username("carol").disabled

    # Another tenant's user is a 404 page, unchanged.
    page(client.post(f"{USERS_PAGE}/{outsider.user_id}", data={"csrf_token": csrf, "disabled": "true"}), 404)
    assert not repos.users.find_by_username("eve").disabled


def test_user_creation_is_validated_like_the_api(client, repos, make_user, logged_in):
    csrf = logged_in(make_user("root", role="admin"))
    html = page(
        client.post(USERS_PAGE, data={"csrf_token": csrf, "username": "c", "password": "short", "role": "owner"}), 400
    )
    assert "Username:" in html and "Password:" in html and "Role:" in html
    assert "short" not in html.split("<form")[1].split("</form>")[0].replace('minlength="12"', "")
    html = page(
        client.post(
            USERS_PAGE,
            data={"csrf_token": csrf, "username": "ROOT", "password": "a long enough password", "role": "member"},
        ),
        409,
    )
    assert "already taken" in html


@pytest.mark.parametrize("password", [" " * 14, "\x00" * 12, "123456789qwe"], ids=["spaces", "nuls", "common"])
def test_weak_passwords_are_refused_like_the_api(client, repos, make_user, logged_in, password):
    csrf = logged_in(make_user("root", role="admin"))
    response = client.post(
        USERS_PAGE, data={"csrf_token": csrf, "username": "carol", "password": password, "role": "member"}
    )
    assert "Password:" in page(response, 400)
    assert repos.users.find_by_username("carol") is None


def test_admins_cannot_change_their_own_account(client, repos, make_user, logged_in):
    admin = make_user("root", role="admin")
    csrf = logged_in(admin)
    for data in ({"role": "member"}, {"role": "admin"}, {"disabled": "true"}):
        assert client.post(f"{USERS_PAGE}/{admin.user_id}", data={"csrf_token": csrf, **data}).status_code == 303
        assert "You cannot change your own account; ask another admin." in page(client.get(USERS_PAGE))
    root = repos.users.find_by_username("root")
    assert (root.role, root.disabled) == ("admin", False)


# --- errors and headers ---


def test_errors_under_dashboard_are_pages_and_the_api_keeps_json(client, make_user, logged_in):
    html = page(client.get("/dashboard/no-such-page"), 404)
    assert "Page not found" in html
    response = client.delete("/dashboard/login")
    page(response, 405)
    assert "POST" in response.headers["Allow"]
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"
    assert "Content-Security-Policy" not in api.headers
    assert client.get("/dashboardx").mimetype == "application/json"


def test_static_files_are_served_under_the_dashboard_and_pages_need_no_inline_code(client):
    html = page(client.get("/dashboard"))
    for asset in re.findall(r'(?:href|src)="(/dashboard/static/[^"]+)"', html):
        response = client.get(asset)
        assert response.status_code == 200 and "max-age" in response.headers["Cache-Control"]
        assert_security_headers(response)
    assert re.findall(r'(?:href|src)="(/dashboard/static/[^"]+)"', html), html
    # The CSP allows no inline script or style: none in any template.
    templates = Path(__file__).resolve().parents[2] / "handlers" / "dashboard" / "templates" / "dashboard"
    for template in templates.glob("*.html"):
        text = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), template
        assert not re.search(r"\sstyle=|<style|\son[a-z]+=", text), template


def test_a_rate_limited_dashboard_request_gets_a_page(aws, jwt_secret):
    app: Flask = create_app(
        {
            "environment": "test",
            "jwt_secret_key": jwt_secret,
            "table_prefix": "test-",
            "unauthenticated_rate_limit": "3/minute",
        }
    )
    create_tables(repositories_of(app).db)
    client = app.test_client()
    for _ in range(3):
        page(client.get("/dashboard"))
    html = page(client.get("/dashboard"), 429)
    assert "Too many requests" in html
    assert client.get("/dashboard").headers["Retry-After"]


def test_dashboard_and_api_logins_share_the_failure_limit(app_with):
    app = app_with(login_failure_rate_limit="2 per 15 minutes")
    repos = repositories_of(app)
    repos.tenants.create("acme")
    repos.users.create("acme", "alice", hash_password("correct horse battery staple"), "member")
    client = app.test_client()
    for _ in range(2):
        assert client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong"}).status_code == 401
    token = field(page(client.get("/dashboard")), "csrf_token")
    response = client.post(
        "/dashboard/login",
        data={"csrf_token": token, "username": "ALICE", "password": "correct horse battery staple"},
    )
    assert "Too many requests" in page(response, 429)
    assert client.get(KEYS_PAGE).status_code == 303


def test_sign_out_everywhere_from_settings_ends_this_and_every_other_session(app, client, make_user, login, logged_in):
    alice = make_user("alice", role="member")
    api_tokens = login(alice)
    other_browser = app.test_client()
    assert dashboard_login(other_browser, "alice", alice.password).status_code == 303
    csrf = logged_in(alice)
    assert "Sign out everywhere" in page(client.get("/dashboard/settings"))

    response = client.post("/dashboard/settings/sign-out-everywhere", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.location == "/dashboard"
    assert "signed out everywhere" in page(client.get("/dashboard"))
    assert client.get("/dashboard/settings").status_code == 303  # this session is over
    assert other_browser.get("/dashboard/settings").status_code == 303  # and the other browser's
    refresh = client.post("/api/v1/auth/refresh", headers={"Authorization": f"Bearer {api_tokens['refresh_token']}"})
    assert refresh.status_code == 401  # and the app's refresh token


def test_sign_out_everywhere_needs_the_forms_token(client, make_user, logged_in):
    alice = make_user("alice", role="member")
    logged_in(alice)
    response = client.post("/dashboard/settings/sign-out-everywhere", data={"csrf_token": "forged" * 8})
    assert response.status_code == 403
    assert client.get("/dashboard/settings").status_code == 200  # nothing ended
