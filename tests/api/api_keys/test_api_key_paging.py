"""GET /api-keys a page at a time: signed cursors, the status filter, a member's own keys only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer

from models.key_format import key_prefix
from tests.conftest import assert_error, bearer, walk_pages

pytestmark = pytest.mark.dynamodb_local

KEYS = "/api/v1/api-keys"


@pytest.fixture
def people(make_user, login):
    """An admin and two members of acme, with their access tokens."""
    accounts = {
        name: make_user(name, role=role) for name, role in (("ada", "admin"), ("alice", "member"), ("bob", "member"))
    }
    return {name: (account, bearer(login(account)["access_token"])) for name, account in accounts.items()}


@pytest.fixture
def keys_by_owner(repos, people, clock):
    """120 keys of acme, minted in turn by the admin and the two members (40 each), their ids by owner."""
    owners = {name: [] for name in people}
    for n in range(120):
        name = list(people)[n % 3]
        key, _ = repos.api_keys.create(people[name][0].user, name=f"key {n}", prefix=key_prefix(False), now=clock.now())
        owners[name].append(key.key_id)
    return owners


def ids(pages):
    return [item["id"] for page in pages for item in page]


def cursor_position(cursor: str) -> str:
    """The id a cursor carries: it is signed, not encrypted, so anyone holding it can read it."""
    valid, payload = URLSafeSerializer("not the secret").loads_unsafe(cursor)
    assert not valid
    return payload["k"]


def test_an_admin_walks_120_keys_without_repeats_or_gaps(client, people, keys_by_owner):
    every_key = sorted(key_id for owned in keys_by_owner.values() for key_id in owned)
    pages = walk_pages(client, f"{KEYS}?limit=25", people["ada"][1])

    assert [len(page) for page in pages] == [25, 25, 25, 25, 20]
    assert ids(pages) == every_key  # oldest first, each key once
    first = client.get(KEYS, headers=people["ada"][1]).get_json()
    assert len(first["items"]) == 20 and first["next_cursor"]  # the default page size is the messages' one


def test_exactly_a_full_last_page_has_no_next_cursor(client, people, keys_by_owner):
    pages = walk_pages(client, f"{KEYS}?limit=40", people["ada"][1])
    assert [len(page) for page in pages] == [40, 40, 40]


def test_a_member_pages_through_their_own_keys_and_every_page_is_full(client, people, keys_by_owner):
    headers = people["alice"][1]
    pages = walk_pages(client, f"{KEYS}?limit=7", headers)

    # Others' keys sit between hers: the pages are filled from hers alone, and end with hers.
    assert [len(page) for page in pages] == [7, 7, 7, 7, 7, 5]
    assert ids(pages) == sorted(keys_by_owner["alice"])
    cursor = client.get(f"{KEYS}?limit=7", headers=headers).get_json()["next_cursor"]
    assert cursor_position(cursor) in keys_by_owner["alice"]  # her cursor names one of her own keys


def test_the_status_filter_pages_active_revoked_and_expired_keys(client, repos, people, clock):
    account, headers = people["ada"]
    made = {}
    for n in range(30):
        expiry = clock.now() + timedelta(hours=1) if n % 3 == 1 else None
        made[n], _ = repos.api_keys.create(
            account.user, name=f"k{n}", prefix=key_prefix(False), now=clock.now(), expires_at=expiry
        )
    for n in range(30):
        if n % 3 == 2 or n in (1, 4):  # every third, and two that will also have expired
            repos.api_keys.revoke(made[n], clock.now())
    clock.advance(3600)

    expected = {"revoked": set(), "expired": set(), "active": set()}
    for n, key in made.items():
        status = "revoked" if n % 3 == 2 or n in (1, 4) else "expired" if n % 3 == 1 else "active"
        expected[status].add(key.key_id)
    for status, wanted in expected.items():
        pages = walk_pages(client, f"{KEYS}?limit=4&status={status}", headers)
        assert set(ids(pages)) == wanted and len(ids(pages)) == len(wanted), status
        assert all(len(page) == 4 for page in pages[:-1])
        assert {item["status"] for page in pages for item in page} == {status}
    assert len(ids(walk_pages(client, f"{KEYS}?limit=100", headers))) == 30


def test_a_rotated_key_is_active_until_its_grace_ends(client, people, make_key, clock):
    _, headers = people["alice"]
    old = make_key(headers, name="rolling")
    client.post(f"{KEYS}/{old['id']}/rotate", json={"grace_seconds": 60}, headers=headers)

    assert len(client.get(f"{KEYS}?status=active", headers=headers).get_json()["items"]) == 2
    clock.advance(60)
    expired = client.get(f"{KEYS}?status=expired", headers=headers).get_json()
    assert [item["id"] for item in expired["items"]] == [old["id"]] and expired["next_cursor"] is None


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=ten", "status=deleted", "status=ACTIVE", "status=", "cursor=garbage", "cursor=a b"],
)
def test_bad_paging_is_400_and_changes_nothing(client, people, make_key, query):
    _, headers = people["ada"]
    make_key(headers, name="stays")
    before = client.get(KEYS, headers=headers).get_json()

    assert_error(client.get(f"{KEYS}?{query}", headers=headers), 400, "invalid_request")
    assert client.get(KEYS, headers=headers).get_json() == before


def test_a_cursor_of_another_listing_or_an_altered_one_is_400(client, people, make_key):
    _, headers = people["ada"]
    for n in range(3):
        make_key(headers, name=f"k{n}")
        client.post("/api/v1/messages", json={"to": "+14155550123", "body": f"m{n}"}, headers=headers)
    keys_cursor = client.get(f"{KEYS}?limit=1", headers=headers).get_json()["next_cursor"]
    users_cursor = client.get("/api/v1/users?limit=1", headers=headers).get_json()["next_cursor"]
    messages_cursor = client.get("/api/v1/messages?limit=1", headers=headers).get_json()["next_cursor"]
    tampered = keys_cursor[:-2] + ("AA" if not keys_cursor.endswith("AA") else "BB")

    for cursor in (users_cursor, messages_cursor, tampered):
        assert_error(client.get(f"{KEYS}?cursor={cursor}", headers=headers), 400, "invalid_request")
    assert_error(client.get(f"/api/v1/messages?cursor={keys_cursor}", headers=headers), 400, "invalid_request")
    assert client.get(f"{KEYS}?cursor={keys_cursor}", headers=headers).status_code == 200


def test_keys_minted_while_paging_come_last_and_nothing_repeats(client, people, make_key):
    _, headers = people["ada"]
    earlier = [make_key(headers, name=f"early {n}")["id"] for n in range(5)]
    first = client.get(f"{KEYS}?limit=2", headers=headers).get_json()
    later = [make_key(headers, name=f"late {n}")["id"] for n in range(2)]

    seen, cursor = [item["id"] for item in first["items"]], first["next_cursor"]
    while cursor:
        page = client.get(f"{KEYS}?limit=2&cursor={cursor}", headers=headers).get_json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(earlier + later)
