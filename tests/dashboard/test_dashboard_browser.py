"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against gunicorn and moto's server.

Run by ``make test`` like every other test; skipped (with the reason) when Chromium or Playwright is
missing. Screenshots go to ``test-artifacts/dashboard/`` (git-ignored); with
``UPDATE_DOCS_SCREENSHOT=1`` the API Keys one is also written to ``docs/dashboard-api-keys.png``.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.servers import ROOT, GunicornServer, check_cli, gunicorn_server, moto_server, service_env

pytestmark = pytest.mark.slow

sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed (pip install -r requirements-dev.txt)"
)
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None:
    pytest.skip(
        "Debian's chromium is not installed (apt-get install chromium; .ci/run installs it)", allow_module_level=True
    )

# This machine has no internet: these flags stop Chromium's background calls home.
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts" / "dashboard"
DOCS_SCREENSHOT = ROOT / "docs" / "dashboard-api-keys.png"
KEY_PATTERN = re.compile(r"^nmk_test_[0-9A-Za-z]{36}$")
TENANT = "acme"
TIMEOUT = 10
KEYS_PATH = "/dashboard/settings/api-keys"


@dataclass
class Stack:
    """The running service and the accounts provisioned in it."""

    server: GunicornServer
    admin: tuple[str, str]
    member: tuple[str, str]
    # The service's environment, for operator commands (``check_cli``) against the same tables.
    env: dict[str, str]

    def url(self, path: str) -> str:
        return self.server.url(path)

    def access_token(self, account: tuple[str, str]) -> str:
        response = requests.post(
            self.url("/api/v1/auth/login"), json={"username": account[0], "password": account[1]}, timeout=TIMEOUT
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def key_names(self, account: tuple[str, str]) -> list[str]:
        """The names of the keys the API lists to this account."""
        headers = {"Authorization": f"Bearer {self.access_token(account)}"}
        response = requests.get(self.url("/api/v1/api-keys"), headers=headers, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return [item["name"] for item in response.json()["items"]]

    def me_with_key(self, key: str) -> requests.Response:
        return requests.get(self.url("/api/v1/me"), headers={"X-API-Key": key}, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Tables, a tenant, an admin and a member made with the operator CLI; gunicorn with two workers."""
    with moto_server() as endpoint:
        # Every page, stylesheet and script counts per client IP (all 127.0.0.1 here) at 60 per minute:
        # a human's pace, not this module's.
        env = service_env(endpoint, UNAUTHENTICATED_RATE_LIMIT="2000/minute", LOGIN_IP_RATE_LIMIT="500/minute")
        check_cli(env, "db", "init")
        check_cli(env, "tenants", "create", TENANT)
        accounts = {}
        for role, username in (("admin", "ada@acme.test"), ("member", "max@acme.test")):
            password = secrets.token_urlsafe(18)
            check_cli(
                env, "users", "create", "--tenant", TENANT, "--username", username, "--role", role, "--password-stdin",
                stdin=password + "\n",
            )  # fmt: skip
            accounts[role] = (username, password)
        with gunicorn_server(env, workers=2) as server:
            yield Stack(server, accounts["admin"], accounts["member"], env)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class Tab:
    """A fresh browser context and its page, with the CSP violations it reported."""

    context: Any
    page: Any
    csp_violations: list[str]


@pytest.fixture
def tab(browser: Any, stack: Stack) -> Iterator[Tab]:
    context = browser.new_context(base_url=stack.server.base_url, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT * 1000)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: "Content Security Policy" in message.text and violations.append(message.text))
    page.on("pageerror", lambda error: violations.append(f"page error: {error}"))
    yield Tab(context, page, violations)
    context.close()
    assert not violations, violations


def log_in(page: Any, account: tuple[str, str]) -> None:
    page.goto("/dashboard")
    page.get_by_label("Username").fill(account[0])
    page.get_by_label("Password").fill(account[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{KEYS_PATH}")


def session_cookie(context: Any) -> dict[str, Any]:
    cookies = [cookie for cookie in context.cookies() if cookie["name"] == "nm_session"]
    assert len(cookies) == 1, context.cookies()
    return cookies[0]


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def test_generate_a_key_use_it_reload_and_revoke_it(tab: Tab, stack: Stack) -> None:
    # Two older keys made through the API, so the list (and the screenshot) shows every state.
    headers = {"Authorization": f"Bearer {stack.access_token(stack.member)}"}
    older = {}
    for name in ("ci deploys", "old staging key"):
        created = requests.post(stack.url("/api/v1/api-keys"), json={"name": name}, headers=headers, timeout=TIMEOUT)
        assert created.status_code == 201, created.text
        older[name] = created.json()
    assert stack.me_with_key(older["ci deploys"]["key"]).status_code == 200
    revoked = requests.delete(
        stack.url(f"/api/v1/api-keys/{older['old staging key']['id']}"), headers=headers, timeout=TIMEOUT
    )
    assert revoked.status_code == 204

    page = tab.page
    page.goto("/dashboard")
    sync_api.expect(page.get_by_role("heading", name="Log in to your dashboard")).to_be_visible()
    screenshot(page, "login.png")
    log_in(page, stack.member)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings", exact=True).click()
    sync_api.expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API Keys", exact=True).click()
    sync_api.expect(page.get_by_role("heading", name="API Keys", exact=True)).to_be_visible()
    page.get_by_role("button", name="Generate New Key", exact=True).click()
    page.get_by_label("Name", exact=True).fill("billing worker")
    page.get_by_role("button", name="Generate key").click()

    secret = page.locator("#new-api-key")
    sync_api.expect(secret).to_be_visible()
    key = secret.inner_text().strip()
    assert KEY_PATTERN.match(key), key
    sync_api.expect(page.get_by_text("You will not be able to see it again")).to_be_visible()

    for name, status, last_used in (("ci deploys", "Active", "UTC"), ("old staging key", "Revoked", "Never")):
        row = page.get_by_role("row").filter(has_text=name)
        sync_api.expect(row.get_by_text(status, exact=True)).to_be_visible()
        sync_api.expect(row.locator("td[data-label='Last used']")).to_contain_text(last_used)
    path = screenshot(page, "api-keys.png")
    if os.environ.get("UPDATE_DOCS_SCREENSHOT") == "1":
        DOCS_SCREENSHOT.write_bytes(path.read_bytes())

    # The copy button puts exactly the key on the clipboard.
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.server.base_url)
    page.get_by_role("button", name="Copy").click()
    sync_api.expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key

    me = stack.me_with_key(key)
    assert me.status_code == 200, me.text
    assert me.json()["auth"] == "api_key" and me.json()["username"] == stack.member[0]

    page.reload()
    sync_api.expect(page.get_by_role("heading", name="API Keys", exact=True)).to_be_visible()
    assert key not in page.content()
    assert page.locator("#new-api-key").count() == 0
    assert stack.key_names(stack.member).count("billing worker") == 1  # the reload minted nothing

    row = page.get_by_role("row").filter(has_text="billing worker")
    sync_api.expect(row.get_by_text("Active")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile(r"^Revoke")).click()
    sync_api.expect(page.get_by_text("Revoked “billing worker”")).to_be_visible()
    sync_api.expect(row.get_by_text("Revoked", exact=True)).to_be_visible()
    refused = stack.me_with_key(key)
    assert refused.status_code == 401, refused.text


def test_wrong_password_shows_an_error_page_and_sets_no_session(tab: Tab, stack: Stack) -> None:
    page = tab.page
    page.goto("/dashboard")
    page.get_by_label("Username").fill(stack.member[0])
    page.get_by_label("Password").fill("certainly not the password")
    with page.expect_response(lambda response: response.url.endswith("/dashboard/login")) as answer:
        page.get_by_role("button", name="Log in").click()
    response = answer.value
    assert response.status == 401
    assert response.headers["content-type"].startswith("text/html")
    sync_api.expect(page.get_by_role("alert")).to_have_text("Invalid username or password")
    sync_api.expect(page.get_by_label("Password")).to_be_visible()
    assert "nm_session" not in {cookie["name"] for cookie in tab.context.cookies()}
    screenshot(page, "login-error.png")


def test_a_form_posted_without_the_csrf_token_is_refused_and_changes_nothing(tab: Tab, stack: Stack) -> None:
    log_in(tab.page, stack.member)
    request = tab.context.request
    # The context's own cookies go along: the session is valid, only the token is missing or wrong.
    assert request.get(KEYS_PATH, max_redirects=0).status == 200
    for extra in ({}, {"csrf_token": secrets.token_urlsafe(32)}):
        refused = request.post(KEYS_PATH, form={"form_id": secrets.token_urlsafe(16), "name": "forged", **extra})
        assert refused.status == 403
        assert refused.headers["content-type"].startswith("text/html")
        assert "not sent from this dashboard page" in refused.text()
    # The same with a plain HTTP client holding the session cookie.
    cookie = session_cookie(tab.context)
    replayed = requests.post(
        stack.url(KEYS_PATH),
        data={"form_id": secrets.token_urlsafe(16), "name": "forged"},
        cookies={cookie["name"]: cookie["value"]},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert replayed.status_code == 403
    assert "forged" not in stack.key_names(stack.member)


def test_cookies_are_httponly_and_samesite_strict(tab: Tab, stack: Stack) -> None:
    tab.page.goto("/dashboard")
    log_in(tab.page, stack.member)
    cookie = session_cookie(tab.context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/dashboard"
    assert cookie["secure"] is False  # APP_ENV=test on http://127.0.0.1; Secure everywhere else
    assert all(c["httpOnly"] and c["sameSite"] == "Strict" for c in tab.context.cookies()), tab.context.cookies()
    assert tab.page.evaluate("document.cookie") == ""


def test_logging_out_ends_the_session_server_side(tab: Tab, stack: Stack) -> None:
    page = tab.page
    log_in(page, stack.member)
    saved = session_cookie(tab.context)
    page.get_by_role("button", name="Log out").click()
    sync_api.expect(page.get_by_text("You have logged out.")).to_be_visible()
    sync_api.expect(page.get_by_label("Password")).to_be_visible()

    # The cookie saved before logout is refused: its session id is revoked in DynamoDB.
    old = {saved["name"]: saved["value"]}
    replay = requests.get(stack.url(KEYS_PATH), cookies=old, allow_redirects=False, timeout=TIMEOUT)
    assert replay.status_code == 303 and replay.headers["Location"].endswith("/dashboard")
    login_page = requests.get(stack.url("/dashboard"), cookies=old, timeout=TIMEOUT)
    assert 'name="password"' in login_page.text and "nmk_" not in login_page.text
    tab.context.add_cookies([saved])
    page.goto(KEYS_PATH)
    sync_api.expect(page.get_by_text("Your session has ended")).to_be_visible()


def test_security_headers(tab: Tab, stack: Stack) -> None:
    responses = [tab.page.goto("/dashboard")]
    log_in(tab.page, stack.member)
    responses.append(tab.page.goto(KEYS_PATH))
    for response in responses:
        headers = response.headers
        csp = {part.strip().split(" ", 1)[0]: part.strip() for part in headers["content-security-policy"].split(";")}
        assert csp["script-src"] == "script-src 'self'"
        assert "'unsafe-inline'" not in headers["content-security-policy"]
        assert csp["frame-ancestors"] == "frame-ancestors 'none'"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["cache-control"] == "no-store"


def test_admins_manage_users_and_members_cannot(tab: Tab, browser: Any, stack: Stack) -> None:
    page = tab.page
    log_in(page, stack.admin)
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Users", exact=True).click()
    sync_api.expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    username = f"carol-{secrets.token_hex(3)}"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Initial password").fill(secrets.token_urlsafe(16))
    page.get_by_label("Role", exact=True).select_option("member")
    page.get_by_role("button", name="Create user").click()
    sync_api.expect(page.get_by_text(f"Created {username} (member).")).to_be_visible()

    row = page.get_by_role("row").filter(has_text=username)
    row.get_by_label(f"Role of {username}").select_option("admin")
    row.get_by_role("button", name=re.compile(r"^Change role")).click()
    sync_api.expect(page.get_by_text(f"{username} is now admin.")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile(r"^Disable")).click()
    sync_api.expect(row.get_by_text("Disabled", exact=True)).to_be_visible()
    screenshot(page, "users.png")

    member = browser.new_context(base_url=stack.server.base_url)
    try:
        member_page = member.new_page()
        log_in(member_page, stack.member)
        member_page.get_by_role("link", name="Settings", exact=True).click()
        settings_nav = member_page.get_by_role("navigation", name="Settings")
        sync_api.expect(settings_nav.get_by_role("link", name="API Keys", exact=True)).to_be_visible()
        sync_api.expect(settings_nav.get_by_role("link", name="Users", exact=True)).to_have_count(0)
        response = member_page.goto("/dashboard/settings/users")
        assert response.status == 403
        assert response.headers["content-type"].startswith("text/html")
        assert username not in member_page.content()
    finally:
        member.close()


def test_api_keys_page_fits_a_phone(browser: Any, stack: Stack) -> None:
    context = browser.new_context(
        base_url=stack.server.base_url, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True
    )
    try:
        page = context.new_page()
        log_in(page, stack.admin)
        page.get_by_role("button", name="Generate New Key", exact=True).click()
        page.get_by_label("Name", exact=True).fill("phone check")
        page.get_by_role("button", name="Generate key").click()
        sync_api.expect(page.locator("#new-api-key")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(page, "api-keys-phone.png")
    finally:
        context.close()


# --- issue 15: Settings → Security log, and the recent sign-ins on Account ---


def test_an_admin_reads_and_filters_the_security_log(tab: Tab, stack: Stack) -> None:
    # Something to find: the member mints a key through the API, and fails a login once.
    headers = {"Authorization": f"Bearer {stack.access_token(stack.member)}"}
    created = requests.post(
        stack.url("/api/v1/api-keys"), json={"name": "audited key"}, headers=headers, timeout=TIMEOUT
    )
    assert created.status_code == 201
    wrong = {"username": stack.member[0], "password": "definitely not it"}
    assert requests.post(stack.url("/api/v1/auth/login"), json=wrong, timeout=TIMEOUT).status_code == 401

    page = tab.page
    log_in(page, stack.admin)
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Security log", exact=True).click()
    sync_api.expect(page.get_by_role("heading", name="Security log", exact=True)).to_be_visible()
    events = page.locator("#security-events")
    sync_api.expect(events.get_by_role("row").filter(has_text="audited key")).to_have_count(1)
    sync_api.expect(events.get_by_role("row").filter(has_text="auth.login_failed")).not_to_have_count(0)
    assert "definitely not it" not in page.content()

    page.get_by_label("Event", exact=True).select_option("api_key.created")
    page.get_by_label("Person", exact=True).select_option(label=stack.member[0])
    page.get_by_role("button", name="Show events").click()
    rows = page.locator("#security-events tbody tr")
    sync_api.expect(rows.filter(has_text="audited key")).to_have_count(1)
    sync_api.expect(rows.filter(has_text="auth.login")).to_have_count(0)
    screenshot(page, "security-log.png")


def test_a_member_sees_their_sign_ins_but_not_the_log(tab: Tab, stack: Stack, browser: Any) -> None:
    page = tab.page
    log_in(page, stack.member)
    page.get_by_role("link", name="Settings", exact=True).click()
    settings_nav = page.get_by_role("navigation", name="Settings")
    sync_api.expect(settings_nav.get_by_role("link", name="Security log", exact=True)).to_have_count(0)
    sign_ins = page.locator("#recent-sign-ins tbody tr")
    sync_api.expect(sign_ins.filter(has_text="Dashboard").first).to_be_visible()
    assert page.goto("/dashboard/settings/security-log").status == 403
