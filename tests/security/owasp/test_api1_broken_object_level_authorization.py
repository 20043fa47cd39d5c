"""API1:2023 Broken Object Level Authorization: every endpoint that takes an id, across tenants."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, assert_error, bearer, walk_pages


@pytest.mark.parametrize("credential", ["admin-jwt", "member-jwt", "admin-key", "member-key"])
def test_another_tenants_objects_are_404_everywhere(client, repos, world, credential):
    headers = world.headers[credential]
    calls = [
        ("get", f"/api/v1/users/{world.globex_user_id}", None),
        ("patch", f"/api/v1/users/{world.globex_user_id}", {"disabled": True}),
        ("post", f"/api/v1/users/{world.globex_user_id}/password", {"new_password": "a takeover attempt"}),
        ("get", f"/api/v1/api-keys/{world.globex_key_id}", None),
        ("delete", f"/api/v1/api-keys/{world.globex_key_id}", None),
        ("post", f"/api/v1/api-keys/{world.globex_key_id}/rotate", {}),
        ("get", f"/api/v1/messages/{world.globex_message_id}", None),
    ]
    for method, path, body in calls:
        response = getattr(client, method)(path, headers=headers, **({"json": body} if body is not None else {}))
        # Keys may not manage users or keys at all (403); people get the same 404 as for unknown ids.
        if (credential.endswith("-key") and "/messages/" not in path) or (
            credential == "member-jwt" and "/users/" in path
        ):
            assert_error(response, 403, "insufficient_scope")
        else:
            assert_error(response, 404, "not_found")
    # Nothing of globex changed.
    globex_admin = repos.users.find_by_username("admin@globex")
    assert globex_admin.disabled is False and globex_admin.session_generation == 0
    login = client.post("/api/v1/auth/login", json={"username": "admin@globex", "password": PASSWORD})
    assert login.status_code == 200  # its password is as it was
    assert repos.api_keys.get_in_tenant("globex", world.globex_key_id).revoked_at is None


def test_listings_show_only_the_callers_tenant(client, world):
    headers = world.headers["admin-jwt"]
    users = client.get("/api/v1/users", headers=headers).get_json()["items"]
    keys = client.get("/api/v1/api-keys", headers=headers).get_json()["items"]
    messages = client.get("/api/v1/messages", headers=headers).get_json()["items"]
    assert all(user["tenant_id"] == "acme" for user in users)
    assert world.globex_key_id not in {key["id"] for key in keys}
    assert world.globex_message_id not in {message["id"] for message in messages}


def test_members_cannot_reach_each_others_keys(client, world, make_user, login, make_key):
    from tests.conftest import bearer

    other = bearer(login(make_user("other-member@acme", role="member"))["access_token"])
    theirs = make_key(other, name="theirs")
    member = world.headers["member-jwt"]
    for method in ("get", "delete"):
        assert_error(getattr(client, method)(f"/api/v1/api-keys/{theirs['id']}", headers=member), 404, "not_found")
    assert_error(client.post(f"/api/v1/api-keys/{theirs['id']}/rotate", headers=member), 404, "not_found")


LISTINGS = ["/api/v1/users", "/api/v1/api-keys", "/api/v1/messages"]


@pytest.mark.parametrize("listing", LISTINGS)
def test_another_tenants_cursor_is_refused_and_shows_nothing_of_theirs(client, world, make_user, login, listing):
    globex = bearer(login(make_user("second@globex", role="admin", tenant="globex"))["access_token"])
    for n in range(2):
        client.post("/api/v1/api-keys", json={"name": f"globex {n}"}, headers=globex)
        client.post("/api/v1/messages", json={"to": "+4930123456", "body": f"globex {n}"}, headers=globex)
    their_cursor = client.get(f"{listing}?limit=1", headers=globex).get_json()["next_cursor"]
    assert their_cursor

    for credential in ("admin-jwt", "member-jwt"):
        response = client.get(f"{listing}?limit=1&cursor={their_cursor}", headers=world.headers[credential])
        if credential == "member-jwt" and listing == "/api/v1/users":
            assert_error(response, 403, "insufficient_scope")
        else:
            assert_error(response, 400, "invalid_request")
    # Walked a row at a time, acme's listings hold nothing of globex.
    seen = {
        item["id"] for page in walk_pages(client, f"{listing}?limit=1", world.headers["admin-jwt"]) for item in page
    }
    assert not seen & {world.globex_user_id, world.globex_key_id, world.globex_message_id}


def test_paging_shows_a_member_only_their_own_keys_whatever_the_filter(client, world, make_user, login, make_key):
    member = world.headers["member-jwt"]
    other = bearer(login(make_user("other-member@acme", role="member"))["access_token"])
    mine = [make_key(member, name=f"mine {n}")["id"] for n in range(3)]
    for n in range(4):
        make_key(other, name=f"theirs {n}")
        make_key(world.headers["admin-jwt"], name=f"admin {n}")
    client.delete(f"/api/v1/api-keys/{mine[0]}", headers=member)

    own = {item["id"] for page in walk_pages(client, "/api/v1/api-keys?limit=1", member) for item in page}
    assert own >= set(mine)
    assert all(item["created_by"] == world.users["member"].user_id for item in client.get(
        "/api/v1/api-keys?limit=100", headers=member).get_json()["items"])  # fmt: skip
    for status, expected in (("revoked", {mine[0]}), ("active", own - {mine[0]}), ("expired", set())):
        pages = walk_pages(client, f"/api/v1/api-keys?limit=1&status={status}", member)
        assert {item["id"] for page in pages for item in page} == expected, status


def test_a_tampered_cursor_is_refused(client, world, make_key):
    admin = world.headers["admin-jwt"]
    make_key(admin, name="one more")
    cursor = client.get("/api/v1/api-keys?limit=1", headers=admin).get_json()["next_cursor"]
    for tampered in (
        cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB"),
        cursor.replace(".", "x", 1),
        cursor[::-1],
    ):
        assert_error(client.get(f"/api/v1/api-keys?cursor={tampered}", headers=admin), 400, "invalid_request")
