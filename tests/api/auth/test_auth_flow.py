"""The public page's JWT flow: login, use, refresh (many times), logout."""

from __future__ import annotations

import jwt
import pytest

from models.passwords import hash_password
from tests.conftest import PASSWORD, assert_error, bearer, repositories_of

pytestmark = pytest.mark.dynamodb_local


def test_login_returns_the_documented_token_response(client, make_user):
    account = make_user("alice")
    response = client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password})

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert response.headers["Cache-Control"] == "no-store"


def test_access_token_opens_me(client, make_user, login):
    account = make_user("alice", role="member")
    tokens = login(account)

    response = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))

    assert response.status_code == 200
    assert response.get_json() == {
        "tenant_id": "acme",
        "user_id": account.user_id,
        "username": "alice",
        "role": "member",
        "permissions": ["messages:read", "messages:send", "api_keys:manage"],
        "auth": "jwt",
        "key_id": None,
    }


def test_username_is_case_insensitive_at_login(client, make_user):
    account = make_user("Alice")
    response = client.post("/api/v1/auth/login", json={"username": "ALICE", "password": account.password})
    assert response.status_code == 200


def test_refresh_token_is_reusable_and_gives_working_access_tokens(client, make_user, login):
    tokens = login(make_user("alice"))

    for _ in range(2):
        response = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
        assert response.status_code == 200
        body = response.get_json()
        assert set(body) == {"access_token", "token_type", "expires_in"}
        assert body["token_type"] == "Bearer" and body["expires_in"] == 900
        assert response.headers["Cache-Control"] == "no-store"
        assert client.get("/api/v1/me", headers=bearer(body["access_token"])).status_code == 200


def test_refresh_carries_the_current_role(client, repos, make_user, login):
    account = make_user("alice", role="member")
    tokens = login(account)
    repos.users.update(account.user, role="viewer")

    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).get_json()

    me = client.get("/api/v1/me", headers=bearer(refreshed["access_token"])).get_json()
    assert me["role"] == "viewer" and me["permissions"] == ["messages:read"]


def test_token_lifetimes_and_algorithm(make_user, login, jwt_secret):
    tokens = login(make_user("alice"))
    for token, kind, lifetime in (
        (tokens["access_token"], "access", 900),
        (tokens["refresh_token"], "refresh", 604800),
    ):
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        claims = jwt.decode(
            token,
            jwt_secret,
            algorithms=["HS256"],
            audience="nativemessage-api",
            issuer="https://api-message.nativehub.live",
        )
        assert claims["exp"] - claims["iat"] == lifetime
        assert claims["type"] == kind
        assert claims["tid"] == "acme"


def test_token_lifetimes_follow_the_settings(app_with, jwt_secret):
    app = app_with(access_token_ttl_seconds=5, refresh_token_ttl_seconds=60)
    repos = repositories_of(app)
    repos.tenants.create("acme")
    repos.users.create("acme", "alice", hash_password(PASSWORD), "admin")
    client = app.test_client()
    login = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(login.get_json()["refresh_token"]))

    assert login.get_json()["expires_in"] == 5
    assert refreshed.get_json()["expires_in"] == 5
    for token, lifetime in (
        (login.get_json()["access_token"], 5),
        (login.get_json()["refresh_token"], 60),
        (refreshed.get_json()["access_token"], 5),
    ):
        claims = jwt.decode(token, jwt_secret, algorithms=["HS256"], options={"verify_aud": False})
        assert claims["exp"] - claims["iat"] == lifetime


def test_logout_revokes_only_that_refresh_token(client, make_user, login):
    account = make_user("alice")
    first, second = login(account), login(account)

    response = client.post("/api/v1/auth/logout", headers=bearer(first["refresh_token"]))
    assert response.status_code == 204
    assert response.headers["Cache-Control"] == "no-store"

    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(first["refresh_token"])), 401, "invalid_token")
    assert client.post("/api/v1/auth/refresh", headers=bearer(second["refresh_token"])).status_code == 200


def test_logout_needs_a_refresh_token(client, make_user, login):
    tokens = login(make_user("alice"))
    assert_error(client.post("/api/v1/auth/logout", headers=bearer(tokens["access_token"])), 401, "invalid_token")
    assert client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 200


def test_wrong_password_and_unknown_user_get_the_same_answer(client, make_user):
    make_user("alice")
    wrong = client.post("/api/v1/auth/login", json={"username": "alice", "password": "not the password"})
    unknown = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "not the password"})

    assert_error(wrong, 401, "invalid_credentials")
    assert wrong.get_json() == unknown.get_json()
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]


def test_unknown_user_is_verified_against_a_dummy_hash(client, monkeypatch):
    # Equal work for unknown users is what keeps their answer as slow as a wrong password's.
    from argon2 import PasswordHasher

    calls = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, stored, password):
        calls.append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    response = client.post("/api/v1/auth/login", json={"username": "nobody", "password": "whatever"})

    assert response.status_code == 401
    assert len(calls) == 1 and calls[0].startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_disabled_user_cannot_log_in_or_refresh(client, repos, make_user, login):
    account = make_user("alice", role="member")
    tokens = login(account)
    repos.users.update(account.user, disabled=True)

    login_response = client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password})
    assert_error(login_response, 401, "invalid_credentials")
    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401, "invalid_token")


def test_deleted_user_cannot_refresh(client, repos, make_user, login):
    account = make_user("alice")
    tokens = login(account)
    repos.users.delete(account.user)

    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401, "invalid_token")


def test_refresh_token_of_a_deleted_user_does_not_work_for_a_new_user_of_the_same_name(client, repos, make_user, login):
    account = make_user("alice")
    tokens = login(account)
    repos.users.delete(account.user)
    make_user("alice", tenant="other")

    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401, "invalid_token")


@pytest.mark.parametrize("junk", [{"Authorization": "Bearer x"}, {"X-API-Key": "x"}])
def test_a_junk_credential_header_does_not_lift_the_login_limits(client, make_user, junk):
    account = make_user("alice")
    failures = [
        client.post("/api/v1/auth/login", json={"username": "alice", "password": f"no-{n}"}, headers=junk).status_code
        for n in range(11)
    ]
    assert failures == [401] * 10 + [429]
    right = client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password}, headers=junk)
    assert right.status_code == 429


# --- sign out everywhere (issue 15) ---


def test_sign_out_everywhere_ends_every_refresh_token_and_keeps_access_tokens_tail(client, make_user, login):
    alice = make_user("alice", role="member")
    laptop, phone = login(alice), login(alice)  # two devices, and one of them perhaps stolen
    response = client.post("/api/v1/auth/logout-all", headers=bearer(laptop["access_token"]))
    assert response.status_code == 204 and response.headers["Cache-Control"] == "no-store"
    for device in (laptop, phone):
        assert_error(client.post("/api/v1/auth/refresh", headers=bearer(device["refresh_token"])), 401, "invalid_token")
    # Access tokens are not individually revocable: they live out their 15 minutes, as documented.
    assert client.get("/api/v1/me", headers=bearer(phone["access_token"])).status_code == 200
    fresh = login(alice)  # logging in again works, and its refresh token too
    assert client.post("/api/v1/auth/refresh", headers=bearer(fresh["refresh_token"])).status_code == 200


def test_sign_out_everywhere_with_a_refresh_token(client, make_user, login):
    alice = make_user("alice", role="member")
    stolen, own = login(alice), login(alice)
    assert client.post("/api/v1/auth/logout-all", headers=bearer(own["refresh_token"])).status_code == 204
    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(stolen["refresh_token"])), 401, "invalid_token")
    # The token used is as dead as the others: it cannot sign out (or refresh) again.
    assert_error(client.post("/api/v1/auth/logout-all", headers=bearer(own["refresh_token"])), 401, "invalid_token")


def test_sign_out_everywhere_needs_a_users_token(client, admin, make_key):
    key = make_key(admin)["key"]
    assert_error(client.post("/api/v1/auth/logout-all", headers={"X-API-Key": key}), 403, "insufficient_scope")
    assert_error(client.post("/api/v1/auth/logout-all"), 401, "invalid_token")
    assert_error(client.post("/api/v1/auth/logout-all", headers=bearer("forged.token.value")), 401, "invalid_token")
