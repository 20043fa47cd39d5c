"""An admin's rights end the moment they are disabled or demoted, whatever token they still hold."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error, bearer

pytestmark = pytest.mark.dynamodb_local

NEW_USER = {"username": "carol", "password": "a long enough password", "role": "admin"}


def test_a_disabled_admin_loses_management_rights_at_once(client, repos, make_user, login):
    boss = make_user("boss", role="admin")
    rogue = make_user("rogue", role="admin")
    rogue_headers = bearer(login(rogue)["access_token"])
    boss_headers = bearer(login(boss)["access_token"])
    assert (
        client.patch(f"/api/v1/users/{rogue.user_id}", json={"disabled": True}, headers=boss_headers).status_code == 200
    )

    for response in (
        client.patch(f"/api/v1/users/{rogue.user_id}", json={"disabled": False}, headers=rogue_headers),
        client.patch(f"/api/v1/users/{boss.user_id}", json={"disabled": True}, headers=rogue_headers),
        client.post("/api/v1/users", json=NEW_USER, headers=rogue_headers),
        client.post("/api/v1/api-keys", json={"name": "backdoor"}, headers=rogue_headers),
    ):
        assert_error(response, 401, "invalid_token")
    assert repos.users.find_by_username("rogue").disabled is True
    assert repos.users.find_by_username("boss").disabled is False
    assert repos.users.find_by_username("carol") is None


def test_a_demoted_admin_cannot_create_admins_with_their_old_token(client, repos, make_user, login):
    boss = bearer(login(make_user("boss", role="admin"))["access_token"])
    demoted = make_user("demoted", role="admin")
    old_token = bearer(login(demoted)["access_token"])
    client.patch(f"/api/v1/users/{demoted.user_id}", json={"role": "member"}, headers=boss)

    assert_error(client.post("/api/v1/users", json=NEW_USER, headers=old_token), 403, "insufficient_scope")
    assert repos.users.find_by_username("carol") is None
