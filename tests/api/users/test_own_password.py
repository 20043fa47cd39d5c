"""POST /me/password: a user changes their own password; every older refresh token ends, fresh tokens come back."""

from __future__ import annotations

import pytest

from models.passwords import hash_password
from tests.conftest import PASSWORD, api_key, assert_error, bearer, repositories_of

pytestmark = pytest.mark.dynamodb_local

NEW_PASSWORD = "a brand new passphrase"


def change(client, headers, current=PASSWORD, new=NEW_PASSWORD, **extra):
    """POST /me/password with these headers and passwords."""
    body = {"current_password": current, "new_password": new}
    return client.post("/api/v1/me/password", json=body, headers=headers, **extra)


def refresh(client, token):
    """POST /auth/refresh with this refresh token."""
    return client.post("/api/v1/auth/refresh", headers=bearer(token))


def log_in(client, username, password, **extra):
    """POST /auth/login with this username and password."""
    return client.post("/api/v1/auth/login", json={"username": username, "password": password}, **extra)


def client_with_alice(app):
    """A test client of an app with its own settings, where member alice has the test password."""
    repos = repositories_of(app)
    repos.tenants.create("acme")
    repos.users.create("acme", "alice", hash_password(PASSWORD), "member")
    return app.test_client()


def test_a_stolen_refresh_token_dies_and_the_fresh_tokens_work(client, make_user, login):
    alice = make_user("alice", role="member")
    stolen, own = login(alice), login(alice)  # a thief holds a refresh token from before the change

    response = change(client, bearer(own["access_token"]))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    fresh = response.get_json()
    assert set(fresh) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert fresh["token_type"] == "Bearer" and fresh["expires_in"] == 900
    for old in (stolen, own):
        assert_error(refresh(client, old["refresh_token"]), 401, "invalid_token")
    renewed = refresh(client, fresh["refresh_token"])
    assert renewed.status_code == 200  # the caller carries on
    me = client.get("/api/v1/me", headers=bearer(renewed.get_json()["access_token"]))
    assert me.status_code == 200 and me.get_json()["username"] == "alice"
    assert client.get("/api/v1/me", headers=bearer(fresh["access_token"])).status_code == 200
    # Access tokens are not revocable: one issued before lives out its (at most) 15 minutes, as documented.
    assert client.get("/api/v1/me", headers=bearer(stolen["access_token"])).status_code == 200


def test_the_old_password_no_longer_logs_in_and_the_new_one_does(client, make_user, login):
    alice = make_user("alice", role="member")
    assert change(client, bearer(login(alice)["access_token"])).status_code == 200
    assert_error(log_in(client, "alice", PASSWORD), 401, "invalid_credentials")
    assert log_in(client, "ALICE", NEW_PASSWORD).status_code == 200


def test_a_wrong_current_password_is_invalid_credentials_and_changes_nothing(client, make_user, login):
    alice = make_user("alice", role="member")
    tokens = login(alice)
    response = change(client, bearer(tokens["access_token"]), current="not my password")
    error = assert_error(response, 401, "invalid_credentials")
    assert "not my password" not in response.get_data(as_text=True) and "current password" in error["message"]
    # The access token was fine: the challenge does not call it invalid (RFC 6750), so a client keeps it.
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="nativemessage"'
    assert refresh(client, tokens["refresh_token"]).status_code == 200  # no session ended
    assert log_in(client, "alice", PASSWORD).status_code == 200
    assert_error(log_in(client, "alice", NEW_PASSWORD), 401, "invalid_credentials")


def test_wrong_current_passwords_count_in_the_login_failure_limit(app_with):
    client = client_with_alice(app_with(login_failure_rate_limit="3 per 15 minutes"))
    headers = bearer(log_in(client, "alice", PASSWORD).get_json()["access_token"])
    assert_error(log_in(client, "alice", "a wrong guess"), 401, "invalid_credentials")  # one failed login
    for n in range(2):  # and two wrong current passwords: three failures of alice from this IP
        assert_error(change(client, headers, current=f"guess {n}"), 401, "invalid_credentials")

    # Past the limit a password change is refused as a login is, even with the right current password.
    limited = change(client, headers)
    assert_error(limited, 429, "rate_limited")
    assert limited.headers["Retry-After"]
    assert_error(log_in(client, "alice", PASSWORD), 429, "rate_limited")
    # Nothing changed, and the owner elsewhere, who has not failed, is not locked out.
    elsewhere = log_in(client, "alice", PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert elsewhere.status_code == 200


def test_a_successful_change_does_not_count_as_a_failure(app_with):
    client = client_with_alice(app_with(login_failure_rate_limit="1 per 15 minutes"))
    tokens = log_in(client, "alice", PASSWORD).get_json()
    assert change(client, bearer(tokens["access_token"])).status_code == 200
    assert change(client, bearer(tokens["access_token"]), current=NEW_PASSWORD, new=PASSWORD).status_code == 200
    assert log_in(client, "alice", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("new", "problem"),
    [
        ("eleven char", "at least 12"),
        (" " * 12, "only spaces"),
        ("correct\thorse battery", "control characters"),
        ("1qaz2wsx3edc", "most common passwords"),
        ("x" * 129, "at most 128"),
    ],
)
def test_the_new_password_follows_the_same_rules_as_everywhere(client, make_user, login, new, problem):
    alice = make_user("alice", role="member")
    tokens = login(alice)
    error = assert_error(change(client, bearer(tokens["access_token"]), new=new), 400, "invalid_request")
    assert [detail["field"] for detail in error["details"]] == ["new_password"]
    assert problem in error["details"][0]["message"]
    assert refresh(client, tokens["refresh_token"]).status_code == 200  # nothing changed
    assert log_in(client, "alice", PASSWORD).status_code == 200


def test_the_new_password_must_differ_from_the_current_one(client, make_user, login):
    alice = make_user("alice", role="member")
    tokens = login(alice)
    error = assert_error(change(client, bearer(tokens["access_token"]), new=PASSWORD), 400, "invalid_request")
    assert error["details"] == [
        {
            "field": "new_password",
            "message": "The new password must differ from the current one",
            "type": "same_as_current",
        }
    ]
    assert refresh(client, tokens["refresh_token"]).status_code == 200  # no session ended


@pytest.mark.parametrize(
    "body",
    [
        {"new_password": NEW_PASSWORD},
        {"current_password": PASSWORD},
        {"current_password": "", "new_password": NEW_PASSWORD},
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "user_id": "usr_someone_else"},
        {"current_password": 12345678901234, "new_password": NEW_PASSWORD},
    ],
)
def test_malformed_bodies_are_refused_and_change_nothing(client, make_user, login, body):
    alice = make_user("alice", role="member")
    tokens = login(alice)
    response = client.post("/api/v1/me/password", json=body, headers=bearer(tokens["access_token"]))
    assert_error(response, 400, "invalid_request")
    assert PASSWORD not in response.get_data(as_text=True)
    assert refresh(client, tokens["refresh_token"]).status_code == 200


def test_only_a_users_own_access_token_may_change_a_password(client, make_user, login, make_key):
    alice = make_user("alice", role="admin")
    tokens = login(alice)
    key = make_key(bearer(tokens["access_token"]))["key"]
    assert_error(change(client, api_key(key)), 403, "insufficient_scope")
    assert_error(change(client, bearer(tokens["refresh_token"])), 401, "invalid_token")
    assert_error(change(client, {}), 401, "invalid_token")
    assert_error(change(client, bearer("forged.token.value")), 401, "invalid_token")
    assert log_in(client, "alice", PASSWORD).status_code == 200  # none of them changed it


def test_an_api_key_is_refused_before_its_body_is_read(client, admin, make_key):
    response = client.post("/api/v1/me/password", json={"junk": True}, headers=api_key(make_key(admin)["key"]))
    assert_error(response, 403, "insufficient_scope")


def test_a_disabled_users_access_token_cannot_change_the_password(client, repos, make_user, login):
    alice = make_user("alice", role="member")
    headers = bearer(login(alice)["access_token"])
    repos.users.update(alice.user, disabled=True)
    assert_error(change(client, headers), 401, "invalid_token")
    repos.users.update(alice.user, disabled=False)
    assert log_in(client, "alice", PASSWORD).status_code == 200


def test_a_change_costs_one_read_and_one_write_of_the_account(client, make_user, login, dynamodb_calls):
    tokens = login(make_user("alice", role="member"))
    client.get("/api/v1/me", headers=bearer(tokens["access_token"]))  # the tenant's limit is cached now
    dynamodb_calls.clear()
    assert change(client, bearer(tokens["access_token"])).status_code == 200
    accounts = [call for call in dynamodb_calls if ":accounts" in call]
    # One read, and one write: the hash and the generation, with the audit record in its transaction.
    assert accounts == ["GetItem:accounts", "TransactWriteItems:accounts+audit_events"]
    assert set(dynamodb_calls) - set(accounts) <= {"GetItem:rate_limits", "UpdateItem:rate_limits"}


def test_wrong_current_passwords_count_towards_the_usernames_slowdown_ceiling(app_with, monkeypatch):
    client = client_with_alice(app_with(login_username_failure_ceiling="2 per 15 minutes", login_slowdown_seconds=1.5))
    waits: list[float] = []
    monkeypatch.setattr("handlers.ratelimit.login.time.sleep", waits.append)
    headers = bearer(log_in(client, "alice", PASSWORD).get_json()["access_token"])
    for n in range(2):
        assert_error(change(client, headers, current=f"guess {n}"), 401, "invalid_credentials")
    assert waits == []
    assert log_in(client, "alice", PASSWORD, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200
    assert waits == [1.5]  # a login of the targeted username now waits, as after failed logins
    assert change(client, headers).status_code == 200
    assert waits == [1.5, 1.5]  # and so does a password change, before its current password is checked
