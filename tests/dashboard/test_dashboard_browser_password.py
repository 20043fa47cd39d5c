"""Change password in a real browser: Chromium driven by Playwright, against gunicorn and moto's server.

A module of its own (with its own servers, from ``test_dashboard_browser``'s fixtures) so that the
password it changes belongs to a user made for it, and the other browser tests' accounts stay as they are.
"""

from __future__ import annotations

import secrets

import pytest
import requests

from tests.dashboard import test_dashboard_browser as browser_tests
from tests.dashboard.test_dashboard_browser import KEYS_PATH, TIMEOUT, Stack, Tab, log_in, screenshot, sync_api

# The browser tests' fixtures, used here too: this module gets servers and a browser of its own.
browser, stack, tab = browser_tests.browser, browser_tests.stack, browser_tests.tab

pytestmark = pytest.mark.slow


def submit_login(page, username: str, password: str) -> None:
    """Fill in and send the dashboard's login form, whatever its answer."""
    page.goto("/dashboard")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_change_password_then_only_the_new_one_logs_in(tab: Tab, stack: Stack) -> None:
    username, old, new = f"pat-{secrets.token_hex(3)}", secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    admin = {"Authorization": f"Bearer {stack.access_token(stack.admin)}"}
    created = requests.post(
        stack.url("/api/v1/users"),
        json={"username": username, "password": old, "role": "member"},
        headers=admin,
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    refresh_token = requests.post(
        stack.url("/api/v1/auth/login"), json={"username": username, "password": old}, timeout=TIMEOUT
    ).json()["refresh_token"]

    page = tab.page
    log_in(page, (username, old))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Settings", exact=True).click()
    sync_api.expect(page.get_by_role("heading", name="Change password")).to_be_visible()

    # A wrong current password: the page says why, and nothing changes.
    page.get_by_label("Current password", exact=True).fill("not the current password")
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm new password", exact=True).fill(new)
    page.get_by_role("button", name="Change password").click()
    sync_api.expect(page.get_by_role("alert")).to_contain_text("The current password is not correct.")
    screenshot(page, "change-password-error.png")

    page.get_by_label("Current password", exact=True).fill(old)
    page.get_by_label("New password", exact=True).fill(new)
    page.get_by_label("Confirm new password", exact=True).fill(new)
    page.get_by_role("button", name="Change password").click()
    sync_api.expect(page.get_by_text("Your password has been changed.")).to_be_visible()
    sync_api.expect(page.get_by_role("heading", name="Settings", exact=True)).to_be_visible()  # still signed in
    screenshot(page, "change-password-done.png")
    refused = requests.post(
        stack.url("/api/v1/auth/refresh"), headers={"Authorization": f"Bearer {refresh_token}"}, timeout=TIMEOUT
    )
    assert refused.status_code == 401  # the app sign-in from before the change is over

    page.get_by_role("button", name="Log out").click()
    sync_api.expect(page.get_by_text("You have logged out.")).to_be_visible()
    submit_login(page, username, old)
    sync_api.expect(page.get_by_role("alert")).to_have_text("Invalid username or password")
    submit_login(page, username, new)
    page.wait_for_url(f"**{KEYS_PATH}")
    sync_api.expect(page.get_by_role("heading", name="API Keys", exact=True)).to_be_visible()
