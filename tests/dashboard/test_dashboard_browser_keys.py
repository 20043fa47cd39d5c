"""Key hygiene in a real browser: Roll key and the status filter, in Debian's Chromium driven by Playwright.

The servers, accounts and browser are test_dashboard_browser.py's fixtures (a stack of this module's own).
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.dashboard import test_dashboard_browser as shared
from tests.dashboard.test_dashboard_browser import KEY_PATTERN, KEYS_PATH, TIMEOUT, Stack, Tab, log_in, screenshot

sync_api = shared.sync_api
# That module's fixtures: this module gets servers and a browser of its own.
stack, browser, tab = shared.stack, shared.browser, shared.tab

pytestmark = pytest.mark.slow


def api(stack: Stack, method: str, path: str, **kwargs) -> dict:
    """Call the API as the member; the JSON answer (or {} for a 204)."""
    headers = {"Authorization": f"Bearer {stack.access_token(stack.member)}"}
    response = requests.request(method, stack.url(f"/api/v1{path}"), headers=headers, timeout=TIMEOUT, **kwargs)
    assert response.status_code < 300, response.text
    return response.json() if response.content else {}


def roll(page, row, choice: str) -> str:
    """Roll the key of ``row`` with the choice labelled ``choice``; the new key the page shows."""
    row.get_by_role("link", name=re.compile(r"^Roll key")).click()
    sync_api.expect(page.get_by_role("heading", name=re.compile(r"^Roll "))).to_be_visible()
    page.get_by_label("The old key stops working").select_option(label=choice)
    page.get_by_role("button", name="Roll key", exact=True).click()
    secret = page.locator("#new-api-key")
    sync_api.expect(secret).to_be_visible()
    sync_api.expect(page.get_by_text("You will not be able to see it again")).to_be_visible()
    return secret.inner_text().strip()


def test_roll_a_key_for_an_hour_then_now(tab: Tab, stack: Stack) -> None:
    name = f"worker {secrets.token_hex(3)}"
    first = api(stack, "POST", "/api-keys", json={"name": name})
    page = tab.page
    log_in(page, stack.member)

    second = roll(page, page.get_by_role("row").filter(has_text=first["prefix"][-4:]), "In 1 hour")
    assert KEY_PATTERN.match(second) and second != first["key"]
    sync_api.expect(page.locator("#rolled-note")).to_contain_text("keeps working until")
    screenshot(page, "roll-key.png")
    assert stack.me_with_key(second).status_code == 200
    assert stack.me_with_key(first["key"]).status_code == 200  # for the hour chosen

    page.reload()
    sync_api.expect(page.get_by_role("heading", name="API Keys", exact=True)).to_be_visible()
    assert second not in page.content() and page.locator("#new-api-key").count() == 0
    sync_api.expect(page.get_by_role("row").filter(has_text=first["prefix"][-4:])).to_contain_text("Stops")

    third = roll(page, page.get_by_role("row").filter(has_text=second[-4:]), "Now")
    sync_api.expect(page.locator("#rolled-note")).to_contain_text("has stopped working")
    assert stack.me_with_key(second).status_code == 401  # at once
    assert stack.me_with_key(third).status_code == 200
    assert stack.me_with_key(first["key"]).status_code == 200  # still inside its own hour


def test_filter_keys_by_status(tab: Tab, stack: Stack) -> None:
    tag = secrets.token_hex(3)
    active = api(stack, "POST", "/api-keys", json={"name": f"active {tag}"})
    revoked = api(stack, "POST", "/api-keys", json={"name": f"revoked {tag}"})
    api(stack, "DELETE", f"/api-keys/{revoked['id']}")
    soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
    expired = api(stack, "POST", "/api-keys", json={"name": f"expired {tag}", "expires_at": soon})
    time.sleep(2.5)
    assert stack.me_with_key(expired["key"]).status_code == 401 and stack.me_with_key(active["key"]).status_code == 200

    page = tab.page
    log_in(page, stack.member)
    filters = page.get_by_role("navigation", name="Show keys by status")
    for label, shown in (("Revoked", revoked), ("Expired", expired), ("Active", active)):
        filters.get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(f"**{KEYS_PATH}?status={label.lower()}")
        sync_api.expect(filters.get_by_role("link", name=label, exact=True)).to_have_attribute("aria-current", "page")
        rows = page.get_by_role("row").filter(has_text=tag)
        sync_api.expect(rows).to_have_count(1)
        sync_api.expect(rows.get_by_text(label, exact=True)).to_be_visible()
        assert shown["name"] in rows.inner_text()
    filters.get_by_role("link", name="All", exact=True).click()
    sync_api.expect(page.get_by_role("row").filter(has_text=tag)).to_have_count(3)
    screenshot(page, "api-keys-filter.png")
