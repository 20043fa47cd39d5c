"""Key hygiene on the API Keys page: Roll key (a new key shown once, the old one ends when chosen) and unused keys."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from models.key_format import key_prefix
from tests.conftest import api_key
from tests.dashboard.test_dashboard_pages import KEY_PATTERN, KEYS_PAGE, field, log_in, page

DAY = 24 * 3600
KEY_ID = re.compile(r'class="row-new">.*?/(key_[0-9A-Z]{26})/', re.S)


def logged_in_as(client, account) -> str:
    """Log in through the form; the session's CSRF token."""
    assert log_in(client, account).status_code == 303
    return field(page(client.get(KEYS_PAGE)), "csrf_token")


def row(html_text: str, name: str, key_id: str = "") -> str:
    """The table row of the key called ``name`` (with ``key_id``: that one, as a rolled key shares its name)."""
    for match in re.finditer(r"<tr[ >].*?</tr>", html_text, re.S):
        if f'data-label="Name">{html.escape(name)}</th>' in match[0] and f"/{key_id}" in match[0]:
            return match[0]
    raise AssertionError(f"no row {name!r} in:\n{html_text}")


def mint(repos, account, name, clock):
    """A key of ``account`` made now by the clock: (its metadata, the key)."""
    return repos.api_keys.create(account.user, name=name, prefix=key_prefix(False), now=clock.now())


def roll(client, csrf, key_id, expires_in):
    """Open the Roll key form of a key and submit it with a choice; the answer."""
    form_id = field(page(client.get(f"{KEYS_PAGE}/{key_id}/roll")), "form_id")
    return client.post(
        f"{KEYS_PAGE}/{key_id}/roll", data={"csrf_token": csrf, "form_id": form_id, "expires_in": expires_in}
    )


def test_roll_with_an_hour_shows_the_new_key_once_and_keeps_the_old_one_for_that_hour(client, repos, make_user, clock):
    alice = make_user("alice", role="member")
    old, old_secret = mint(repos, alice, "billing worker", clock)
    csrf = logged_in_as(client, alice)
    listing = page(client.get(KEYS_PAGE))
    assert f'href="{KEYS_PAGE}/{old.key_id}/roll"' in row(listing, "billing worker")

    form = page(client.get(f"{KEYS_PAGE}/{old.key_id}/roll"))
    assert re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', form) == [
        ("0", "Now"), ("3600", "In 1 hour"), ("86400", "In 24 hours"), ("604800", "In 7 days"),
    ]  # fmt: skip
    response = roll(client, csrf, old.key_id, "3600")
    shown = page(response)
    assert response.headers["Cache-Control"] == "no-store"
    secrets = set(KEY_PATTERN.findall(shown))
    assert len(secrets) == 1 and old_secret not in secrets
    new_secret = secrets.pop()
    assert "You will not be able to see it again" in shown and "keeps working until" in shown

    assert client.get("/api/v1/me", headers=api_key(new_secret)).get_json()["auth"] == "api_key"
    assert client.get("/api/v1/me", headers=api_key(old_secret)).status_code == 200
    again = page(client.get(KEYS_PAGE))
    assert new_secret not in again  # gone on reload
    assert "Stops" in row(again, "billing worker", old.key_id)  # the old key's end, beside its status
    assert "Stops" not in row(again, "billing worker", KEY_ID.search(shown)[1])
    clock.advance(3600)
    assert client.get("/api/v1/me", headers=api_key(old_secret)).status_code == 401
    assert client.get("/api/v1/me", headers=api_key(new_secret)).status_code == 200


def test_roll_now_stops_the_old_key_at_once(client, repos, make_user, clock):
    alice = make_user("alice", role="member")
    old, old_secret = mint(repos, alice, "leaked", clock)
    csrf = logged_in_as(client, alice)

    shown = page(roll(client, csrf, old.key_id, "0"))
    assert "has stopped working" in shown
    assert client.get("/api/v1/me", headers=api_key(old_secret)).status_code == 401
    assert client.get("/api/v1/me", headers=api_key(KEY_PATTERN.findall(shown)[0])).status_code == 200


@pytest.mark.parametrize("grace", [0, 3600, DAY, 7 * DAY])
def test_each_choice_is_the_apis_grace_period(client, repos, make_user, clock, grace):
    alice = make_user("alice", role="member")
    old, _ = mint(repos, alice, "worker", clock)
    csrf = logged_in_as(client, alice)
    assert roll(client, csrf, old.key_id, str(grace)).status_code == 200

    rolled = repos.api_keys.get_in_tenant("acme", old.key_id)
    assert rolled.expires_at == (clock.now() + timedelta(seconds=grace)).isoformat(timespec="seconds")
    assert rolled.replaced_by is not None


@pytest.mark.parametrize("choice", ["", "5", "-1", "604801", "now"])
def test_a_choice_not_offered_is_a_400_page_and_changes_nothing(client, repos, make_user, clock, choice):
    alice = make_user("alice", role="member")
    old, _ = mint(repos, alice, "worker", clock)
    csrf = logged_in_as(client, alice)
    assert "Choose when the old key stops" in page(roll(client, csrf, old.key_id, choice), 400)
    assert repos.api_keys.get_in_tenant("acme", old.key_id) == old
    assert len(repos.api_keys.list_for_tenant("acme")) == 1


def test_a_resubmitted_roll_mints_nothing_and_a_rolled_key_cannot_be_rolled_again(client, repos, make_user, clock):
    alice = make_user("alice", role="member")
    old, _ = mint(repos, alice, "worker", clock)
    csrf = logged_in_as(client, alice)
    form_id = field(page(client.get(f"{KEYS_PAGE}/{old.key_id}/roll")), "form_id")
    data = {"csrf_token": csrf, "form_id": form_id, "expires_in": "86400"}
    assert client.post(f"{KEYS_PAGE}/{old.key_id}/roll", data=data).status_code == 200

    again = client.post(f"{KEYS_PAGE}/{old.key_id}/roll", data=data)
    assert again.status_code == 303 and not KEY_PATTERN.search(page(client.get(KEYS_PAGE)))
    assert "already rotated" in page(roll_post(client, csrf, old.key_id), 409)
    assert len(repos.api_keys.list_for_tenant("acme")) == 2
    assert "already rolled" in page(client.get(f"{KEYS_PAGE}/{old.key_id}/roll"), 409)  # says so before the form


def test_only_the_keys_owner_may_roll_it(client, repos, make_user, clock):
    alice, bob = make_user("alice", role="member"), make_user("bob", role="member")
    admin, eve = make_user("root", role="admin"), make_user("eve", role="admin", tenant="globex")
    keys = {account.username: mint(repos, account, f"{account.username} key", clock)[0] for account in (alice, eve)}

    csrf = logged_in_as(client, admin)
    listing = page(client.get(KEYS_PAGE))
    assert "/roll" not in row(listing, "alice key") and "/revoke" in row(listing, "alice key")  # revoke, not roll
    assert "owner can rotate it" in page(client.get(f"{KEYS_PAGE}/{keys['alice'].key_id}/roll"), 403)
    page(roll_post(client, csrf, keys["alice"].key_id), 403)
    page(client.get(f"{KEYS_PAGE}/{keys['eve'].key_id}/roll"), 404)
    page(roll_post(client, csrf, keys["eve"].key_id), 404)
    client.post("/dashboard/logout", data={"csrf_token": csrf})

    csrf = logged_in_as(client, bob)
    page(roll_post(client, csrf, keys["alice"].key_id), 404)
    page(roll_post(client, None, keys["alice"].key_id), 403)  # and without the CSRF token
    assert all(key.replaced_by is None for key in repos.api_keys.list_for_tenant("acme"))
    assert len(repos.api_keys.list_for_tenant("acme")) == 1


def roll_post(client, csrf, key_id):
    data = {"form_id": "f" * 22, "expires_in": "0", **({"csrf_token": csrf} if csrf else {})}
    return client.post(f"{KEYS_PAGE}/{key_id}/roll", data=data)


def test_keys_unused_for_30_days_carry_a_badge_and_a_one_click_revoke(client, repos, make_user, clock):
    alice = make_user("alice", role="member")
    made = {name: mint(repos, alice, name, clock) for name in ("never used", "used long ago", "used lately")}
    repos.api_keys.revoke(mint(repos, alice, "revoked", clock)[0], clock.now())
    clock.advance(DAY / 2)
    repos.api_keys.touch_last_used(made["used long ago"][0], clock.now())
    clock.advance(1.5 * DAY)
    repos.api_keys.touch_last_used(made["used lately"][0], clock.now())
    clock.advance(28 * DAY)
    mint(repos, alice, "new", clock)
    clock.advance(DAY)  # day 31: "never used" made 31 days ago, uses 30.5 and 29 days ago, "new" 1 day old
    csrf = logged_in_as(client, alice)

    listing = page(client.get(KEYS_PAGE))
    flagged = {
        name
        for name in ("never used", "used long ago", "used lately", "new", "revoked")
        if "Unused" in row(listing, name)
    }
    assert flagged == {"never used", "used long ago"}
    unused = row(listing, "never used")
    assert "Revoke unused key" in unused and "data-confirm" not in unused  # one click, no confirmation
    assert "data-confirm" in row(listing, "used lately")

    action = html.unescape(re.search(r'<form method="post" action="([^"]+/revoke[^"]*)"', unused)[1])
    assert client.post(action, data={"csrf_token": csrf}).status_code == 303
    assert client.get("/api/v1/me", headers=api_key(made["never used"][1])).status_code == 401
    after = page(client.get(KEYS_PAGE))
    assert "Revoked “never used”" in after and "Unused" not in row(after, "never used")
