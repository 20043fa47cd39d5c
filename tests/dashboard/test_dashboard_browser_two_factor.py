"""Two-factor in a real browser: Chromium driven by Playwright, against gunicorn and moto's server.

The server runs on the real clock, so codes are computed for real time steps. No test waits for a
step to pass: each code used is the next unused step within the one step of drift the service
allows (``fresh_code``), and turning two-factor off uses a recovery code. The users are made for
this module, so the other browser tests' accounts keep logging in with a password alone.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime

import pytest
import requests
import segno

from handlers.dashboard.two_factor import QR_SCALE
from models.mfa import DRIFT_STEPS, code_at, otpauth_uri, time_step
from tests.dashboard import test_dashboard_browser as browser_tests
from tests.dashboard.test_dashboard_browser import KEYS_PATH, TIMEOUT, Stack, Tab, screenshot, sync_api
from tests.integration.servers import check_cli

browser, stack, tab = browser_tests.browser, browser_tests.stack, browser_tests.tab

pytestmark = pytest.mark.slow

SETUP_PATH = "/dashboard/settings/two-factor"
CODE_PATH = "/dashboard/login/code"


class Authenticator:
    """The phone app: codes of one secret, each for a later time step than the last one used."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.last_step = 0

    def fresh_code(self) -> str:
        """A code the service accepts now: the next unused step, at most one step ahead of the clock."""
        now = time_step_now()
        step = max(now - DRIFT_STEPS, self.last_step + 1)
        assert step <= now + DRIFT_STEPS, "this test took longer than the service's drift allows"
        self.last_step = step
        return code_at(self.secret, step)


def time_step_now() -> int:
    """The time step of the real clock (the server's)."""
    return time_step(datetime.fromtimestamp(time.time(), UTC))


def new_user(stack: Stack, tenant: str = "acme") -> tuple[str, str]:
    username, password = f"tfa-{secrets.token_hex(3)}@{tenant}.test", secrets.token_urlsafe(16)
    check_cli(
        stack.env, "users", "create", "--tenant", tenant, "--username", username, "--role", "member", "--password-stdin",
        stdin=password + "\n",
    )  # fmt: skip
    return username, password


def password_step(page, account: tuple[str, str]) -> None:
    page.goto("/dashboard")
    page.get_by_label("Username").fill(account[0])
    page.get_by_label("Password").fill(account[1])
    page.get_by_role("button", name="Log in").click()


def code_step(page, code: str) -> None:
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Verify").click()


def set_up_two_factor(page, username: str) -> tuple[Authenticator, list[str]]:
    """From the set-up page: check the QR code, type a code, read the recovery codes."""
    page.get_by_role("button", name="Set up two-factor").click()
    page.wait_for_url(f"**{SETUP_PATH}")
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    qr = page.get_by_role("img", name=re.compile("QR code"))
    sync_api.expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")  # the CSP let the data: image load
    # The QR code is the one of this secret's otpauth URI (segno draws the same URI the same way).
    expected = segno.make(otpauth_uri(secret, username), error="m").svg_data_uri(scale=QR_SCALE)
    assert qr.get_attribute("src") == expected
    authenticator = Authenticator(secret)
    page.get_by_label("Code", exact=True).fill(code_at(secret, time_step_now() + 5))  # not a current one
    page.get_by_role("button", name="Turn on two-factor").click()
    sync_api.expect(page.get_by_role("alert")).to_contain_text("That code does not match")
    screenshot(page, "two-factor-setup.png")
    page.get_by_label("Code", exact=True).fill(authenticator.fresh_code())
    page.get_by_role("button", name="Turn on two-factor").click()
    sync_api.expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = [item.strip() for item in page.locator("#recovery-codes code").all_inner_texts()]
    assert len(codes) == 10 and len(set(codes)) == 10
    screenshot(page, "two-factor-recovery-codes.png")
    return authenticator, codes


def api_login(stack: Stack, account: tuple[str, str], **extra: str) -> requests.Response:
    body = {"username": account[0], "password": account[1], **extra}
    return requests.post(stack.url("/api/v1/auth/login"), json=body, timeout=TIMEOUT)


def test_enrol_log_in_with_a_code_replay_refused_recovery_code_once_then_disable(
    tab: Tab, stack: Stack, browser
) -> None:
    account = new_user(stack)
    page = tab.page
    password_step(page, account)
    page.wait_for_url(f"**{KEYS_PATH}")
    page.goto("/dashboard/settings")
    sync_api.expect(page.locator("#two-factor-status")).to_have_text("Off")
    page.get_by_role("link", name="Set up two-factor").click()
    authenticator, recovery_codes = set_up_two_factor(page, account[0])
    page.get_by_role("link", name="I have saved them").click()
    page.goto("/dashboard/settings")
    sync_api.expect(page.locator("#two-factor-status")).to_have_text("On")
    sync_api.expect(page.locator("#recovery-left")).to_have_text("10 recovery codes left.")
    assert api_login(stack, account).json()["error"]["code"] == "mfa_required"

    # Log in: the password, then the code on a page of its own.
    page.get_by_role("button", name="Log out").click()
    password_step(page, account)
    page.wait_for_url(f"**{CODE_PATH}")
    sync_api.expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    assert page.locator("input[type=password]").count() == 0
    page.go_back()  # the password page is not re-entered: back lands on the code step again
    page.wait_for_url(f"**{CODE_PATH}")
    screenshot(page, "two-factor-code-step.png")
    code = authenticator.fresh_code()
    code_step(page, code)
    page.wait_for_url(f"**{KEYS_PATH}")
    sync_api.expect(page.get_by_role("heading", name="API Keys", exact=True)).to_be_visible()

    # The same code in another browser, within its 30 seconds: refused, and no session.
    other = browser.new_context(base_url=stack.server.base_url)
    other_page = other.new_page()
    password_step(other_page, account)
    other_page.wait_for_url(f"**{CODE_PATH}")
    code_step(other_page, code)
    sync_api.expect(other_page.get_by_role("alert")).to_contain_text("already used")
    other_page.goto("/dashboard/settings")
    other_page.wait_for_url(re.compile(r".*/dashboard/login/code$"))  # still only half signed in

    # "Start over" goes back to the password; a recovery code then signs in, once.
    other_page.get_by_role("button", name="Start over").click()
    sync_api.expect(other_page.get_by_label("Password")).to_be_visible()
    password_step(other_page, account)
    code_step(other_page, recovery_codes[0])
    other_page.wait_for_url(f"**{KEYS_PATH}")
    sync_api.expect(other_page.get_by_text("You signed in with a recovery code")).to_be_visible()
    other_page.get_by_role("button", name="Log out").click()
    password_step(other_page, account)
    code_step(other_page, recovery_codes[0])
    sync_api.expect(other_page.get_by_role("alert")).to_contain_text("already used")
    other.close()

    # Turn it off with the password and a (recovery) code: the password alone signs in again.
    page.goto("/dashboard/settings")
    sync_api.expect(page.locator("#recovery-left")).to_have_text("9 recovery codes left.")
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_label("Code or recovery code").fill(recovery_codes[1])
    page.get_by_role("button", name="Turn off two-factor").click()
    sync_api.expect(page.get_by_role("alert")).to_contain_text("The password or the code is wrong")
    page.get_by_label("Password", exact=True).fill(account[1])
    page.get_by_label("Code or recovery code").fill(recovery_codes[1])
    page.get_by_role("button", name="Turn off two-factor").click()
    sync_api.expect(page.locator("#two-factor-status")).to_have_text("Off")
    assert api_login(stack, account).status_code == 200


def test_an_organisation_that_requires_it_sends_a_new_user_to_set_up_first(tab: Tab, stack: Stack) -> None:
    tenant = f"strict-{secrets.token_hex(3)}"
    check_cli(stack.env, "tenants", "create", tenant)
    check_cli(stack.env, "tenants", "set-mfa", tenant, "required")
    account = new_user(stack, tenant)
    refused = api_login(stack, account)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "mfa_enrollment_required"

    page = tab.page
    password_step(page, account)
    page.wait_for_url(f"**{SETUP_PATH}")
    sync_api.expect(page.locator("#mfa-required-note")).to_contain_text("Your organisation requires two-factor")
    page.goto(KEYS_PATH)  # anything else: back to set-up
    page.wait_for_url(f"**{SETUP_PATH}")
    screenshot(page, "two-factor-required.png")
    authenticator, _ = set_up_two_factor(page, account[0])
    page.get_by_role("link", name="I have saved them").click()
    page.wait_for_url(f"**{KEYS_PATH}")
    sync_api.expect(page.get_by_role("heading", name="API Keys", exact=True)).to_be_visible()
    assert api_login(stack, account, otp=authenticator.fresh_code()).status_code == 200
