"""POST /users/<id>/password: a tenant admin sets another user's password; that user's sessions end."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, api_key, assert_error, bearer, dashboard_login

pytestmark = pytest.mark.dynamodb_local

NEW_PASSWORD = "set by the admin for you"


def reset(client, headers, user_id, new=NEW_PASSWORD):
    """POST /users/<user_id>/password with these headers."""
    return client.post(f"/api/v1/users/{user_id}/password", json={"new_password": new}, headers=headers)


def log_in(client, username, password):
    """POST /auth/login with this username and password."""
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def test_an_admin_reset_ends_that_users_refresh_tokens_and_sessions(app, client, admin, make_user, login):
    bob = make_user("bob", role="member")
    tokens = login(bob)
    browser = app.test_client()
    assert dashboard_login(browser, "bob", PASSWORD).status_code == 303

    response = reset(client, admin, bob.user_id)

    assert response.status_code == 204 and response.get_data() == b""
    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401, "invalid_token")
    assert browser.get("/dashboard/settings").status_code == 303  # bob's dashboard session is over
    assert_error(log_in(client, "bob", PASSWORD), 401, "invalid_credentials")
    assert log_in(client, "bob", NEW_PASSWORD).status_code == 200
    assert client.get("/api/v1/users", headers=admin).status_code == 200  # the admin carries on


def test_an_admin_may_reset_a_disabled_users_password_who_still_cannot_log_in(client, admin, make_user):
    bob = make_user("bob", role="member")
    client.patch(f"/api/v1/users/{bob.user_id}", json={"disabled": True}, headers=admin)
    assert reset(client, admin, bob.user_id).status_code == 204
    assert_error(log_in(client, "bob", NEW_PASSWORD), 401, "invalid_credentials")
    client.patch(f"/api/v1/users/{bob.user_id}", json={"disabled": False}, headers=admin)
    assert log_in(client, "bob", NEW_PASSWORD).status_code == 200


def test_an_admin_cannot_reset_their_own_password(client, make_user, login):
    ada = make_user("ada", role="admin")
    tokens = login(ada)
    error = assert_error(reset(client, bearer(tokens["access_token"]), ada.user_id), 403, "insufficient_scope")
    assert "/me/password" in error["message"]  # the way that asks for the current password
    assert client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 200
    assert log_in(client, "ada", PASSWORD).status_code == 200


def test_unknown_ids_and_other_tenants_users_are_404_and_change_nothing(client, admin, make_user, login):
    outsider = make_user("olga", role="member", tenant="globex")
    tokens = login(outsider)
    for user_id in (outsider.user_id, "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV", "not-an-id"):
        assert_error(reset(client, admin, user_id), 404, "not_found")
    assert client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 200
    assert log_in(client, "olga", PASSWORD).status_code == 200


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_members_and_viewers_cannot_reset_anyones_password(client, make_user, login, role):
    caller = bearer(login(make_user("caller", role=role))["access_token"])
    bob = make_user("bob", role="member")
    assert_error(reset(client, caller, bob.user_id), 403, "insufficient_scope")
    assert log_in(client, "bob", PASSWORD).status_code == 200


def test_api_keys_cannot_reset_passwords_even_an_admins(client, admin, make_user, make_key):
    bob = make_user("bob", role="member")
    assert_error(reset(client, api_key(make_key(admin)["key"]), bob.user_id), 403, "insufficient_scope")
    assert_error(reset(client, {}, bob.user_id), 401, "invalid_token")
    assert log_in(client, "bob", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"new_password": "eleven char"},
        {"new_password": "1qaz2wsx3edc"},
        {"new_password": "\x00" * 12},
        {},
        {"new_password": NEW_PASSWORD, "current_password": PASSWORD},
        {"new_password": NEW_PASSWORD, "disabled": False},
    ],
)
def test_bad_bodies_are_refused_and_change_nothing(client, admin, make_user, login, body):
    bob = make_user("bob", role="member")
    tokens = login(bob)
    response = client.post(f"/api/v1/users/{bob.user_id}/password", json=body, headers=admin)
    assert_error(response, 400, "invalid_request")
    assert client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 200
    assert log_in(client, "bob", PASSWORD).status_code == 200


def test_a_demoted_admin_loses_the_right_at_once(client, make_user, login):
    ada, other = make_user("ada", role="admin"), make_user("other-admin", role="admin")
    headers = bearer(login(ada)["access_token"])
    client.patch(f"/api/v1/users/{ada.user_id}", json={"role": "member"}, headers=bearer(login(other)["access_token"]))
    bob = make_user("bob", role="member")
    assert_error(reset(client, headers, bob.user_id), 403, "insufficient_scope")  # the token still says admin
    assert log_in(client, "bob", PASSWORD).status_code == 200
