"""GET /users a page at a time, with the messages' signed cursors."""

from __future__ import annotations

import pytest

from models.passwords import hash_password
from tests.conftest import PASSWORD, assert_error, bearer, walk_pages

pytestmark = pytest.mark.dynamodb_local

USERS = "/api/v1/users"


@pytest.fixture
def admin_headers(make_user, login):
    return bearer(login(make_user("admin-acme", role="admin"))["access_token"])


@pytest.fixture
def user_ids(repos, admin_headers):
    """119 more users of acme (120 with the admin) and one of globex; acme's ids."""
    password_hash = hash_password(PASSWORD)  # one hash for all: argon2 is slow on purpose
    for n in range(119):
        repos.users.create("acme", f"user-{n:03}", password_hash, ("member", "viewer", "admin")[n % 3])
    repos.tenants.create("globex")
    repos.users.create("globex", "outsider", password_hash, "admin")
    return [user.user_id for user in repos.users.list_for_tenant("acme")]


def test_an_admin_walks_120_users_without_repeats_or_gaps(client, admin_headers, user_ids):
    pages = walk_pages(client, f"{USERS}?limit=50", admin_headers)

    assert [len(page) for page in pages] == [50, 50, 20]
    seen = [user["id"] for page in pages for user in page]
    assert seen == sorted(user_ids) and len(set(seen)) == 120  # oldest first, each once
    assert {user["tenant_id"] for page in pages for user in page} == {"acme"}
    first = client.get(USERS, headers=admin_headers).get_json()
    assert len(first["items"]) == 20 and first["next_cursor"]


def test_exactly_a_full_last_page_has_no_next_cursor(client, admin_headers, user_ids):
    assert [len(page) for page in walk_pages(client, f"{USERS}?limit=60", admin_headers)] == [60, 60]


def test_one_user_is_one_page(client, admin_headers):
    assert client.get(USERS, headers=admin_headers).get_json()["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=-1", "limit=1.5", "cursor=garbage", "cursor=%00"])
def test_bad_paging_is_400(client, admin_headers, user_ids, query):
    assert_error(client.get(f"{USERS}?{query}", headers=admin_headers), 400, "invalid_request")


def test_an_altered_cursor_or_one_of_the_keys_listing_is_400(client, admin_headers, user_ids, make_key):
    cursor = client.get(f"{USERS}?limit=1", headers=admin_headers).get_json()["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    make_key(admin_headers, name="a")
    make_key(admin_headers, name="b")
    keys_cursor = client.get("/api/v1/api-keys?limit=1", headers=admin_headers).get_json()["next_cursor"]

    for bad in (tampered, keys_cursor):
        assert_error(client.get(f"{USERS}?cursor={bad}", headers=admin_headers), 400, "invalid_request")
    assert client.get(f"{USERS}?cursor={cursor}", headers=admin_headers).status_code == 200
