"""Two-factor in the dashboard, through Flask's test client: set-up, the code step of a login, turning it off,
and the organisation's requirement. The browser tests (test_dashboard_browser_two_factor.py) click the same."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from handlers.dashboard.session import SECOND_STEP_SECONDS
from models.mfa import STEP_SECONDS, code_at, time_step
from tests.api.mfa.conftest import now_code
from tests.conftest import PASSWORD, dashboard_login, repositories_of
from tests.dashboard.test_dashboard_pages import field, page

SETTINGS = "/dashboard/settings"
SETUP = "/dashboard/settings/two-factor"
CODE_STEP = "/dashboard/login/code"


@pytest.fixture
def alice(make_user):
    return make_user("alice", role="member")


def csrf_of(client: FlaskClient, path: str = SETTINGS) -> str:
    return field(page(client.get(path)), "csrf_token")


def set_up(client: FlaskClient, clock) -> tuple[str, list[str]]:
    """Turn two-factor on from Settings as a signed-in user: the secret and the recovery codes shown."""
    started = client.post(SETUP + "/start", data={"csrf_token": csrf_of(client, SETUP)})
    assert started.status_code == 303 and started.headers["Location"].endswith(SETUP)
    html = page(client.get(SETUP))
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', html)[1]
    confirmed = page(
        client.post(SETUP + "/confirm", data={"csrf_token": field(html, "csrf_token"), "code": now_code(secret, clock)})
    )
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", confirmed)
    clock.advance(STEP_SECONDS)  # the confirming code is spent
    return secret, codes


def password_step(client: FlaskClient, username: str = "alice", password: str = PASSWORD):
    return dashboard_login(client, username, password)


def code_step(client: FlaskClient, code: str):
    html = page(client.get(CODE_STEP))
    return client.post(CODE_STEP, data={"csrf_token": field(html, "csrf_token"), "code": code})


def actions(app: Flask, tenant: str = "acme") -> list[str]:
    return [event.action for event in repositories_of(app).audit.page(tenant, limit=100).items]


def test_set_up_shows_a_qr_code_and_the_secret_then_ten_recovery_codes_once(app, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    settings = page(client.get(SETTINGS))
    assert 'id="two-factor-status">Off' in settings and f'href="{SETUP}"' in settings
    assert 'id="begin-setup"' in page(client.get(SETUP))
    client.post(SETUP + "/start", data={"csrf_token": csrf_of(client)})
    html = page(client.get(SETUP))
    secret = re.search(r'id="totp-secret">([A-Z2-7]{32})<', html)[1]
    qr = re.search(r'<img src="(data:image/svg\+xml[^"]+)"', html)
    assert qr and "<svg" in unquote(qr[1].replace("&#39;", "'"))
    assert "<script>" not in html and "img-src 'self' data:" in client.get(SETUP).headers["Content-Security-Policy"]
    wrong = page(client.post(SETUP + "/confirm", data={"csrf_token": field(html, "csrf_token"), "code": "000000"}), 400)
    assert 'id="confirm-error"' in wrong and secret in wrong  # the same enrolment, shown again
    done = page(
        client.post(SETUP + "/confirm", data={"csrf_token": field(html, "csrf_token"), "code": now_code(secret, clock)})
    )
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert "will not be able to see them again" in done
    after = page(client.get(SETTINGS))
    assert 'id="two-factor-status">On' in after and "10 recovery codes left" in after
    assert not any(code in after for code in codes) and secret not in after
    # Once on, the set-up page no longer shows a secret: it sends you back to Settings.
    assert client.get(SETUP).status_code == 303
    assert "mfa.enabled" in actions(app)


def test_a_login_asks_for_the_code_on_a_second_page_and_each_code_works_once(app, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    secret, _ = set_up(client, clock)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})

    first = password_step(client)
    assert first.status_code == 303 and first.headers["Location"].endswith(CODE_STEP)
    assert client.get(SETTINGS).status_code == 303  # no session yet: the password alone opens nothing
    code_page = page(client.get(CODE_STEP))
    assert 'type="password"' not in code_page and 'name="code"' in code_page
    code = now_code(secret, clock)
    signed_in = code_step(client, code)
    assert signed_in.status_code == 303 and signed_in.headers["Location"].endswith("/dashboard/settings/api-keys")
    assert page(client.get(SETTINGS))
    assert actions(app).count("auth.login_succeeded") == 2  # the first login, and this one: once each

    # The same code again, in a new login within its 30 seconds: refused, as a failed login.
    other = app.test_client()
    password_step(other)
    replayed = code_step(other, code)
    assert 'id="code-error"' in page(replayed, 401)
    assert other.get(SETTINGS).status_code == 303
    assert "auth.login_failed" in actions(app)


def test_the_password_step_is_not_re_entered_from_the_code_page(app, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    set_up(client, clock)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    password_step(client)
    back = client.get("/dashboard")  # the browser's Back button, or a bookmark
    assert back.status_code == 303 and back.headers["Location"].endswith(CODE_STEP)
    restart = client.post(CODE_STEP + "/restart", data={"csrf_token": csrf_of(client, CODE_STEP)})
    assert restart.status_code == 303
    login_form = page(client.get("/dashboard"))
    assert 'name="password"' in login_form
    assert client.get(CODE_STEP).status_code == 303  # the step is gone: the password comes first again


def test_the_code_step_expires_and_a_used_step_cannot_be_replayed(app, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    secret, _ = set_up(client, clock)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    password_step(client)
    csrf = csrf_of(client, CODE_STEP)
    clock.advance(SECOND_STEP_SECONDS + 1)
    late = client.post(CODE_STEP, data={"csrf_token": csrf, "code": now_code(secret, clock)})
    assert late.status_code == 303 and late.headers["Location"].endswith("/dashboard")
    assert client.get(SETTINGS).status_code == 303

    password_step(client)
    step_cookie = client.get_cookie("nm_session", path="/dashboard").value
    csrf = csrf_of(client, CODE_STEP)
    assert code_step(client, now_code(secret, clock)).status_code == 303
    copy = app.test_client()
    copy.set_cookie("nm_session", step_cookie, path="/dashboard")
    clock.advance(STEP_SECONDS)
    again = copy.post(CODE_STEP, data={"csrf_token": csrf, "code": now_code(secret, clock)})
    assert again.status_code == 303 and again.headers["Location"].endswith("/dashboard")
    assert copy.get(SETTINGS).status_code == 303


def test_a_recovery_code_signs_in_once(app, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    _, codes = set_up(client, clock)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    password_step(client)
    used = code_step(client, codes[0].upper())  # as typed, in capitals
    assert used.status_code == 303
    settings = page(client.get(SETTINGS))
    assert "9 remain" in settings and "9 recovery codes left" in settings
    assert "mfa.recovery_code_used" in actions(app)
    other = app.test_client()
    password_step(other)
    assert 'id="code-error"' in page(code_step(other, codes[0]), 401)


def test_failed_codes_count_in_the_login_limits(app, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    secret, _ = set_up(client, clock)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    password_step(client)
    wrong = code_at(secret, time_step(clock.now()) + 5)
    statuses = [code_step(client, wrong).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]


def test_turning_it_off_needs_the_password_and_a_code(app, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    secret, _ = set_up(client, clock)
    disable = SETUP + "/disable"
    wrong_password = client.post(
        disable, data={"csrf_token": csrf_of(client), "password": "not it at all", "code": now_code(secret, clock)}
    )
    assert 'id="two-factor-errors"' in page(wrong_password, 401)
    wrong_code = client.post(disable, data={"csrf_token": csrf_of(client), "password": PASSWORD, "code": "123456"})
    assert 'id="two-factor-errors"' in page(wrong_code, 401)
    assert 'id="two-factor-status">On' in page(client.get(SETTINGS))
    off = client.post(
        disable, data={"csrf_token": csrf_of(client), "password": PASSWORD, "code": now_code(secret, clock)}
    )
    assert off.status_code == 303
    assert 'id="two-factor-status">Off' in page(client.get(SETTINGS))
    assert "mfa.disabled" in actions(app)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    assert (
        password_step(client).headers["Location"].endswith("/dashboard/settings/api-keys")
    )  # the password alone again


def test_an_organisation_that_requires_it_sends_users_to_set_up_before_anything_else(app, client, alice, clock):
    made = app.test_cli_runner().invoke(args=["tenants", "set-mfa", "acme", "required"])
    assert made.exit_code == 0, made.output
    assert dashboard_login(client, "alice", PASSWORD).status_code == 303
    for path in (SETTINGS, "/dashboard/settings/api-keys", "/dashboard/settings/users"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["Location"].endswith(SETUP), path
    assert 'id="mfa-required-note"' in page(client.get(SETUP))
    data = {"csrf_token": csrf_of(client, SETUP), "name": "made-before-set-up"}
    refused = client.post("/dashboard/settings/api-keys", data=data)
    assert refused.status_code == 303 and refused.headers["Location"].endswith(SETUP)
    set_up(client, clock)
    assert page(client.get(SETTINGS))
    assert "made-before-set-up" not in page(client.get("/dashboard/settings/api-keys"))


def test_a_secret_the_key_cannot_decrypt_is_a_503_page_not_a_500(app, app_with, client, alice, clock, caplog):
    dashboard_login(client, "alice", PASSWORD)
    secret, _ = set_up(client, clock)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    # The same service redeployed with another MFA_ENCRYPTION_KEY: no stored secret decrypts.
    rekeyed = app_with(
        mfa_encryption_key="a new MFA_ENCRYPTION_KEY, at least 32 bytes long",
        table_prefix=repositories_of(app).settings.table_prefix,
    )
    repositories_of(rekeyed).clock = clock
    browser = rekeyed.test_client()
    password_step(browser)
    answer = code_step(browser, now_code(secret, clock))
    html = page(answer, 503)
    assert "Temporarily unavailable" in html and "Traceback" not in html and secret not in html
    assert browser.get(SETTINGS).status_code == 303  # not signed in


def test_signing_out_everywhere_ends_a_code_step_begun_before(app, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    secret, _ = set_up(client, clock)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    password_step(client)  # this browser's password was right; its code is still to come
    csrf = csrf_of(client, CODE_STEP)
    elsewhere = app.test_client()
    password_step(elsewhere)
    assert code_step(elsewhere, now_code(secret, clock)).status_code == 303
    elsewhere.post("/dashboard/settings/sign-out-everywhere", data={"csrf_token": csrf_of(elsewhere)})
    clock.advance(STEP_SECONDS)
    late = client.post(CODE_STEP, data={"csrf_token": csrf, "code": now_code(secret, clock)})
    assert late.status_code == 303 and late.headers["Location"].endswith("/dashboard")
    assert client.get(SETTINGS).status_code == 303


def test_half_signed_in_nothing_else_opens_and_another_password_is_not_taken(app, client, alice, make_user, clock):
    make_user("bob", role="admin")
    dashboard_login(client, "alice", PASSWORD)
    set_up(client, clock)
    client.post("/dashboard/logout", data={"csrf_token": csrf_of(client)})
    login_csrf = field(page(client.get("/dashboard")), "csrf_token")  # the login form's own token
    password_step(client)
    csrf = csrf_of(client, CODE_STEP)
    made = client.post("/dashboard/settings/api-keys", data={"csrf_token": csrf, "name": "half-signed-in"})
    assert made.status_code == 303 and not made.headers["Location"].endswith("/api-keys")
    # Another account's password, sent while the code is due, is not taken: the code page again.
    other = {"csrf_token": login_csrf, "username": "bob", "password": PASSWORD}
    answer = client.post("/dashboard/login", data=other)
    assert answer.status_code == 303 and answer.headers["Location"].endswith(CODE_STEP)
    assert 'id="code-username">alice<' in page(client.get(CODE_STEP))
    # "Start over" needs the step's own CSRF token.
    assert client.post(CODE_STEP + "/restart", data={}).status_code == 403
    assert client.get("/dashboard").headers["Location"].endswith(CODE_STEP)


def test_the_code_page_never_ends_a_live_session(app, client, alice):
    dashboard_login(client, "alice", PASSWORD)  # no two-factor: signed in at once
    assert client.get(CODE_STEP).status_code == 303  # e.g. a link from another site
    assert client.post(CODE_STEP + "/restart").status_code == 303
    assert page(client.get(SETTINGS))  # still signed in


def test_an_enrolment_begun_under_another_key_can_be_begun_again(app, app_with, client, alice, clock):
    dashboard_login(client, "alice", PASSWORD)
    client.post(SETUP + "/start", data={"csrf_token": csrf_of(client, SETUP)})
    rekeyed = app_with(
        mfa_encryption_key="a new MFA_ENCRYPTION_KEY, at least 32 bytes long",
        table_prefix=repositories_of(app).settings.table_prefix,
    )
    repositories_of(rekeyed).clock = clock
    browser = rekeyed.test_client()
    dashboard_login(browser, "alice", PASSWORD)
    html = page(browser.get(SETUP))  # not a 503: the old pending secret is as good as none
    assert 'id="begin-setup"' in html
    assert browser.post(SETUP + "/start", data={"csrf_token": field(html, "csrf_token")}).status_code == 303
    assert 'id="totp-secret"' in page(browser.get(SETUP))
