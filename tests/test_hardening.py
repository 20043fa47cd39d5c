"""Failure modes found in review: limit bypasses, stale admin rights, client input that was a 500."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from tests.conftest import api_key, assert_error, bearer

NEW_USER = {"username": "carol", "password": "a long enough password", "role": "admin"}


def set_limit(app, tenant: str, limit: int) -> None:
    assert app.test_cli_runner().invoke(args=["tenants", "set-limit", tenant, str(limit)]).exit_code == 0
    app.extensions["nativemessage"].tenant_limits.clear()


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


def test_a_body_the_limiter_cannot_parse_does_not_switch_counting_to_memory(app, client, admin, dynamodb_calls):
    set_limit(app, "acme", 3)
    statuses = [client.get("/api/v1/me", headers=admin).status_code for _ in range(2)]
    huge = client.post("/api/v1/auth/login", data=b'{"username": "' + b"a" * (2 * 1024 * 1024) + b'"}',
                       content_type="application/json")  # fmt: skip
    deep = client.post("/api/v1/auth/login", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    dynamodb_calls.clear()
    statuses += [client.get("/api/v1/me", headers=admin).status_code for _ in range(2)]

    assert huge.status_code == 413 and deep.status_code == 400
    assert statuses == [200, 200, 200, 429]
    assert "UpdateItem:rate_limits" in dynamodb_calls  # still counted in DynamoDB, not in memory


def test_deeply_nested_json_is_a_400_on_every_json_endpoint(client, admin):
    nested = "[" * 50_000 + "]" * 50_000
    for path in ("/api/v1/auth/login", "/api/v1/users", "/api/v1/api-keys", "/api/v1/messages"):
        assert_error(
            client.post(path, data=nested, content_type="application/json", headers=admin), 400, "invalid_request"
        )


def test_an_expiry_that_overflows_in_utc_is_a_400(client, admin):
    response = client.post(
        "/api/v1/api-keys", json={"name": "x", "expires_at": "9999-12-31T20:00:00-05:00"}, headers=admin
    )
    assert_error(response, 400, "invalid_request")


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


def test_an_admin_cannot_change_their_own_account_at_all(client, make_user, login):
    admin = make_user("solo", role="admin")
    headers = bearer(login(admin)["access_token"])
    assert_error(
        client.patch(f"/api/v1/users/{admin.user_id}", json={"disabled": False}, headers=headers), 409, "conflict"
    )


def test_authentication_and_permission_come_before_validation(client, make_user, login):
    viewer = bearer(login(make_user("vera", role="viewer"))["access_token"])
    bad_body = {"username": 1}
    assert_error(client.post("/api/v1/users", json=bad_body), 401, "invalid_token")
    assert_error(client.post("/api/v1/users", json=bad_body, headers=viewer), 403, "insufficient_scope")
    assert_error(client.post("/api/v1/messages", json={}, headers=viewer), 403, "insufficient_scope")


def test_a_transaction_conflict_is_a_503_not_a_500(app, client, make_user, admin, monkeypatch):
    member = make_user("maria", role="member")
    db = app.extensions["nativemessage"].db

    def conflict(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
             "CancellationReasons": [{"Code": "TransactionConflict"}]},
            "TransactWriteItems",
        )  # fmt: skip

    monkeypatch.setattr(db.client, "transact_write_items", conflict)
    response = client.patch(f"/api/v1/users/{member.user_id}", json={"role": "viewer"}, headers=admin)
    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"] == "1"


def test_a_last_used_write_that_meets_a_transaction_does_not_fail_the_request(
    app, client, admin, make_key, monkeypatch
):
    key = make_key(admin)["key"]
    db = app.extensions["nativemessage"].db
    real_update = db.client.update_item

    def busy(**kwargs):
        if kwargs["TableName"].endswith("accounts"):
            raise ClientError({"Error": {"Code": "TransactionConflictException", "Message": "busy"}}, "UpdateItem")
        return real_update(**kwargs)

    monkeypatch.setattr(db.client, "update_item", busy)
    assert client.get("/api/v1/me", headers=api_key(key)).status_code == 200


def test_concurrent_requests_while_the_counter_store_fails_are_served(app, admin, monkeypatch):
    from handlers.ratelimit.limiter import limiter

    def unreachable(*_args, **_kwargs):
        time.sleep(0.05)  # keep requests in flight together
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    monkeypatch.setattr(limiter.storage, "incr", unreachable)
    monkeypatch.setattr(limiter.storage, "check", lambda: False)

    def call(_: int) -> int:
        return app.test_client().get("/api/v1/me", headers=admin).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(call, range(8)))
    assert statuses == [200] * 8


def test_refresh_and_logout_count_against_the_tenant(client, make_user, login):
    tokens = login(make_user("alice"))
    me = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    logout = client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"]))

    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in (me, refreshed, logout)]
    assert [r.headers["X-RateLimit-Limit"] for r in (me, refreshed, logout)] == ["200"] * 3
    assert remaining == [remaining[0], remaining[0] - 1, remaining[0] - 2]


@pytest.mark.parametrize("missing", ["exp", "type", "tid", "jti"])
def test_signed_tokens_missing_a_required_claim_are_refused(client, make_user, jwt_secret, missing):
    account = make_user("alice")
    now = int(time.time())
    claims = {"sub": account.user_id, "tid": "acme", "role": "admin", "usr": "alice", "type": "access",
              "jti": "j", "iat": now, "nbf": now, "exp": now + 900,
              "iss": "https://api-message.nativehub.live", "aud": "nativemessage-api"}  # fmt: skip
    del claims[missing]
    token = jwt.encode(claims, jwt_secret, algorithm="HS256")
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")


@pytest.mark.parametrize("path", ["/api/v1//me", "/api/v1/messages/", "//api/v1/health"])
def test_odd_paths_are_json_never_an_html_redirect(client, admin, path):
    response = client.get(path, headers=admin)
    assert response.mimetype == "application/json"
    assert response.status_code in (200, 404)
    json.loads(response.get_data(as_text=True))
