"""API1:2023 Broken Object Level Authorization: every endpoint that takes an id, across tenants."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, assert_error


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
