"""The dashboard's API Keys and Users lists a page at a time (Previous / Next links), and the keys' status filter."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from models.key_format import key_prefix
from models.passwords import hash_password
from tests.conftest import PASSWORD
from tests.dashboard.test_dashboard_pages import KEYS_PAGE, USERS_PAGE, field, log_in, page


def logged_in_as(client, account) -> str:
    """Log in through the form; the session's CSRF token."""
    assert log_in(client, account).status_code == 303
    return field(page(client.get(KEYS_PAGE if account.user.role != "viewer" else "/dashboard/settings")), "csrf_token")


def names(html_text: str) -> list[str]:
    """The row names of a list page (key names, usernames), in order."""
    cells = re.findall(r'<th scope="row" data-label="(?:Name|Username)">([^<]+?)(?: <span|</th>)', html_text)
    return [html.unescape(cell).strip() for cell in cells]


def link(html_text: str, rel: str) -> str | None:
    """The Previous (``prev``) or Next (``next``) link of a list page, or None."""
    match = re.search(rf'href="([^"]+)" rel="{rel}"', html_text)
    return html.unescape(match[1]) if match else None


def mint(repos, account, name, clock=None, **fields):
    now = clock.now() if clock else repos.now()
    return repos.api_keys.create(account.user, name=name, prefix=key_prefix(False), now=now, **fields)[0]


def test_keys_page_newest_first_with_previous_and_next_and_only_a_members_own(client, repos, make_user):
    alice, bob = make_user("alice", role="member"), make_user("bob", role="member")
    hers = []
    for n in range(45):
        hers.append(mint(repos, alice, f"alice {n:02}"))
        mint(repos, bob, f"bob {n:02}")  # between every two of hers
    newest_first = [key.name for key in sorted(hers, key=lambda key: key.key_id, reverse=True)]
    logged_in_as(client, alice)

    first = page(client.get(KEYS_PAGE))
    assert names(first) == newest_first[:20]
    assert link(first, "prev") is None
    second = page(client.get(link(first, "next")))
    assert names(second) == newest_first[20:40]
    third = page(client.get(link(second, "next")))
    assert names(third) == newest_first[40:] and link(third, "next") is None
    back = page(client.get(link(third, "prev")))
    assert names(back) == names(second)
    start = page(client.get(link(back, "prev")))
    assert names(start) == names(first) and link(start, "prev") is None and link(start, "next")
    assert "bob" not in " ".join(names(first) + names(second) + names(third))


def test_the_status_filter_shows_only_keys_in_that_state(client, repos, make_user, clock):
    alice = make_user("alice", role="member")
    for name in ("fresh", "to revoke", "revoked late"):
        mint(repos, alice, name, clock)
    mint(repos, alice, "short-lived", clock, expires_at=clock.now() + timedelta(hours=1))
    late = mint(repos, alice, "expired then revoked", clock, expires_at=clock.now() + timedelta(hours=1))
    for key in repos.api_keys.list_for_tenant("acme"):
        if key.name == "to revoke":
            repos.api_keys.revoke(key, clock.now())
    clock.advance(2 * 3600)
    repos.api_keys.revoke(late, clock.now())
    logged_in_as(client, alice)

    shown = {status: page(client.get(f"{KEYS_PAGE}?status={status}")) for status in ("active", "revoked", "expired")}
    assert sorted(names(shown["active"])) == ["fresh", "revoked late"]
    assert sorted(names(shown["revoked"])) == ["expired then revoked", "to revoke"]
    assert names(shown["expired"]) == ["short-lived"]
    assert len(names(page(client.get(KEYS_PAGE)))) == 5
    assert 'status=revoked" aria-current="page">Revoked<' in shown["revoked"]
    assert 'aria-current="page">All<' in page(client.get(KEYS_PAGE))


def test_an_empty_filter_says_so(client, make_user):
    logged_in_as(client, make_user("alice", role="member"))
    assert "No expired keys" in page(client.get(f"{KEYS_PAGE}?status=expired"))


def test_revoking_from_a_filtered_list_goes_back_to_it(client, repos, make_user):
    alice = make_user("alice", role="member")
    key = mint(repos, alice, "to revoke")
    csrf = logged_in_as(client, alice)
    response = client.post(f"{KEYS_PAGE}/{key.key_id}/revoke?status=active", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.location == f"{KEYS_PAGE}?status=active"
    assert names(page(client.get(response.location))) == []


@pytest.mark.parametrize(
    "query", ["status=deleted", "status=Active", "after=garbage", "before=garbage", "after=x&before=y"]
)
def test_bad_list_queries_are_a_400_page(client, make_user, query):
    logged_in_as(client, make_user("alice", role="member"))
    assert "not valid" in page(client.get(f"{KEYS_PAGE}?{query}"), 400)


def test_a_cursor_of_another_tenant_or_list_is_a_400_page(client, repos, make_user):
    eve = make_user("eve", role="admin", tenant="globex")
    for n in range(25):
        mint(repos, eve, f"globex {n}")
    logged_in_as(client, eve)
    theirs = link(page(client.get(KEYS_PAGE)), "next")
    users_next = link(page(client.get(USERS_PAGE)), "next")
    client.post("/dashboard/logout", data={"csrf_token": field(page(client.get(KEYS_PAGE)), "csrf_token")})

    logged_in_as(client, make_user("alice", role="admin"))
    assert "not valid" in page(client.get(theirs), 400)
    assert users_next is None  # one user: one page
    cursor = re.search(r"after=([^&]+)", theirs)[1]
    assert "not valid" in page(client.get(f"{USERS_PAGE}?after={cursor}"), 400)


def test_users_page_oldest_first_a_page_at_a_time_and_only_the_tenants(client, repos, make_user):
    admin = make_user("admin", role="admin")
    password_hash = hash_password(PASSWORD)
    made = [admin.user] + [repos.users.create("acme", f"user-{n:02}", password_hash, "member") for n in range(44)]
    oldest_first = [user.username for user in sorted(made, key=lambda user: user.user_id)]
    make_user("eve", role="admin", tenant="globex")
    logged_in_as(client, admin)

    first = page(client.get(USERS_PAGE))
    assert names(first) == oldest_first[:20] and link(first, "prev") is None
    second = page(client.get(link(first, "next")))
    assert names(second) == oldest_first[20:40]
    third = page(client.get(link(second, "next")))
    assert names(third) == oldest_first[40:] and link(third, "next") is None
    assert names(page(client.get(link(third, "prev")))) == names(second)
    assert "eve" not in names(first) + names(second) + names(third)
