"""Minting, listing, revoking and rotating API keys over HTTP."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest

from handlers.web.request_log import JsonFormatter
from models.key_format import key_digest
from tests.conftest import api_key, assert_error, bearer

pytestmark = pytest.mark.dynamodb_local

TEST_KEY = re.compile(r"^nmk_test_[0-9A-Za-z]{36}$")


def test_created_key_has_the_format_and_is_shown_once(client, admin, make_key, caplog):
    with caplog.at_level(logging.DEBUG):
        created = make_key(admin, name="billing worker")
        later = [
            client.get("/api/v1/api-keys", headers=admin),
            client.get(f"/api/v1/api-keys/{created['id']}", headers=admin),
            client.get("/api/v1/me", headers=api_key(created["key"])),
        ]

    assert TEST_KEY.match(created["key"])  # nmk_live_ only in production, see test_live_prefix
    assert created["prefix"] == "nmk_test_..." + created["key"][-4:]
    assert created["status"] == "active" and created["name"] == "billing worker"
    for response in later:
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert created["key"] not in text and key_digest(created["key"]) not in text
    log_text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert created["key"] not in log_text and key_digest(created["key"]) not in log_text


def test_creation_response_is_not_cached_and_points_at_the_key(client, admin):
    response = client.post("/api/v1/api-keys", json={"name": "x"}, headers=admin)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Location"] == f"/api/v1/api-keys/{response.get_json()['id']}"


def test_live_prefix_only_in_production(aws, jwt_secret):
    from app import create_app
    from models.key_format import key_prefix

    app = create_app({"environment": "production", "jwt_secret_key": jwt_secret})
    assert key_prefix(app.extensions["nativemessage"].settings.is_production) == "nmk_live_"


def test_key_authenticates_me_as_its_creator(client, make_user, login, make_key):
    member = make_user("maria", role="member")
    created = make_key(bearer(login(member)["access_token"]))

    me = client.get("/api/v1/me", headers=api_key(created["key"]))

    assert me.status_code == 200
    assert me.get_json() == {
        "tenant_id": "acme",
        "user_id": member.user_id,
        "username": "maria",
        "role": "member",
        "permissions": ["messages:read", "messages:send"],
        "auth": "api_key",
        "key_id": created["id"],
    }


def test_listing_never_shows_the_secret_or_digest_and_members_see_only_their_own(
    client, make_user, login, admin, make_key
):
    maria = bearer(login(make_user("maria", role="member"))["access_token"])
    mine = make_key(maria, name="maria's")
    theirs = make_key(admin, name="admin's")

    member_view = client.get("/api/v1/api-keys", headers=maria).get_json()["items"]
    admin_view = client.get("/api/v1/api-keys", headers=admin).get_json()["items"]

    assert [item["id"] for item in member_view] == [mine["id"]]
    assert {item["id"] for item in admin_view} == {mine["id"], theirs["id"]}
    for item in member_view + admin_view:
        assert "key" not in item and "digest" not in item
        assert set(item) == {
            "id", "name", "prefix", "status", "created_at", "created_by", "last_used_at",
            "expires_at", "revoked_at", "permissions", "rotated_from",
        }  # fmt: skip


def test_members_cannot_see_or_revoke_other_members_keys(client, make_user, login, make_key):
    alice = bearer(login(make_user("alice", role="member"))["access_token"])
    bob = bearer(login(make_user("bob", role="member"))["access_token"])
    alices = make_key(alice)

    assert_error(client.get(f"/api/v1/api-keys/{alices['id']}", headers=bob), 404, "not_found")
    assert_error(client.delete(f"/api/v1/api-keys/{alices['id']}", headers=bob), 404, "not_found")
    assert_error(client.post(f"/api/v1/api-keys/{alices['id']}/rotate", headers=bob), 404, "not_found")
    assert client.get("/api/v1/me", headers=api_key(alices["key"])).status_code == 200


def test_admin_revokes_a_members_key(client, make_user, login, admin, make_key):
    member_key = make_key(bearer(login(make_user("maria", role="member"))["access_token"]))
    assert client.delete(f"/api/v1/api-keys/{member_key['id']}", headers=admin).status_code == 204
    assert_error(client.get("/api/v1/me", headers=api_key(member_key["key"])), 401, "invalid_token")


def test_other_tenants_key_is_404_for_every_key_endpoint(client, make_user, login, admin, make_key):
    outsider = make_key(bearer(login(make_user("olga", tenant="globex"))["access_token"]))

    assert_error(client.get(f"/api/v1/api-keys/{outsider['id']}", headers=admin), 404, "not_found")
    assert_error(client.delete(f"/api/v1/api-keys/{outsider['id']}", headers=admin), 404, "not_found")
    assert_error(client.post(f"/api/v1/api-keys/{outsider['id']}/rotate", headers=admin), 404, "not_found")
    assert client.get("/api/v1/me", headers=api_key(outsider["key"])).status_code == 200
    assert_error(client.delete("/api/v1/api-keys/not-a-key-id", headers=admin), 404, "not_found")


def test_revocation_is_immediate_and_repeating_it_is_harmless(client, admin, make_key):
    created = make_key(admin)
    assert client.get("/api/v1/me", headers=api_key(created["key"])).status_code == 200

    first = client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin)
    second = client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin)

    assert first.status_code == 204 and second.status_code == 204
    assert_error(client.get("/api/v1/me", headers=api_key(created["key"])), 401, "invalid_token")
    listed = client.get(f"/api/v1/api-keys/{created['id']}", headers=admin).get_json()
    assert listed["status"] == "revoked" and listed["revoked_at"]


def test_rotate_with_no_grace_replaces_the_key_at_once(client, admin, make_key, clock):
    old = make_key(admin, name="worker")

    rotated = client.post(f"/api/v1/api-keys/{old['id']}/rotate", json={"grace_seconds": 0}, headers=admin)

    assert rotated.status_code == 201
    new = rotated.get_json()
    assert new["key"] != old["key"] and TEST_KEY.match(new["key"])
    assert new["name"] == "worker" and new["rotated_from"] == old["id"]
    assert_error(client.get("/api/v1/me", headers=api_key(old["key"])), 401, "invalid_token")
    assert client.get("/api/v1/me", headers=api_key(new["key"])).status_code == 200


def test_rotate_with_grace_keeps_the_old_key_until_the_grace_ends(client, admin, make_key, clock):
    old = make_key(admin)
    new = client.post(f"/api/v1/api-keys/{old['id']}/rotate", json={"grace_seconds": 60}, headers=admin).get_json()

    clock.advance(59)
    assert client.get("/api/v1/me", headers=api_key(old["key"])).status_code == 200
    assert client.get("/api/v1/me", headers=api_key(new["key"])).status_code == 200

    clock.advance(1)
    assert_error(client.get("/api/v1/me", headers=api_key(old["key"])), 401, "invalid_token")
    assert client.get("/api/v1/me", headers=api_key(new["key"])).status_code == 200


def test_rotate_without_a_body_means_no_grace(client, admin, make_key, clock):
    old = make_key(admin)
    assert client.post(f"/api/v1/api-keys/{old['id']}/rotate", headers=admin).status_code == 201
    assert_error(client.get("/api/v1/me", headers=api_key(old["key"])), 401, "invalid_token")


@pytest.mark.parametrize("grace", [-1, 7 * 24 * 3600 + 1, "soon"])
def test_rotate_refuses_a_bad_grace(client, admin, make_key, grace):
    old = make_key(admin)
    response = client.post(f"/api/v1/api-keys/{old['id']}/rotate", json={"grace_seconds": grace}, headers=admin)
    assert_error(response, 400, "invalid_request")
    assert client.get("/api/v1/me", headers=api_key(old["key"])).status_code == 200


def test_a_revoked_key_cannot_be_rotated(client, admin, make_key):
    old = make_key(admin)
    client.delete(f"/api/v1/api-keys/{old['id']}", headers=admin)
    assert_error(client.post(f"/api/v1/api-keys/{old['id']}/rotate", headers=admin), 409, "conflict")


def test_expiry_must_be_in_the_future_and_ends_the_key(client, admin, make_key, clock):
    past = (clock.now() - timedelta(seconds=1)).isoformat()
    assert_error(
        client.post("/api/v1/api-keys", json={"name": "x", "expires_at": past}, headers=admin), 400, "invalid_request"
    )
    naive = clock.now().replace(tzinfo=None).isoformat()
    assert_error(
        client.post("/api/v1/api-keys", json={"name": "x", "expires_at": naive}, headers=admin), 400, "invalid_request"
    )

    created = make_key(admin, expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    clock.advance(3599)
    assert client.get("/api/v1/me", headers=api_key(created["key"])).status_code == 200
    clock.advance(1)
    expired = client.get("/api/v1/me", headers=api_key(created["key"]))
    unknown = client.get("/api/v1/me", headers=api_key(make_key(admin)["key"][:-6] + "000000"))
    assert_error(expired, 401, "invalid_token")
    assert expired.get_json() == unknown.get_json()
    assert client.get(f"/api/v1/api-keys/{created['id']}", headers=admin).get_json()["status"] == "expired"


def test_permissions_can_only_narrow(client, make_user, login, make_key):
    member = bearer(login(make_user("maria", role="member"))["access_token"])
    viewer = bearer(login(make_user("vera", role="viewer"))["access_token"])

    read_only = make_key(member, permissions=["messages:read"])
    me = client.get("/api/v1/me", headers=api_key(read_only["key"])).get_json()
    assert me["permissions"] == ["messages:read"]

    # A viewer holds no api_keys:manage, so cannot mint a key at all, let alone a wider one.
    too_wide = client.post("/api/v1/api-keys", json={"name": "x", "permissions": ["messages:send"]}, headers=viewer)
    assert_error(too_wide, 403, "insufficient_scope")
    bogus = client.post("/api/v1/api-keys", json={"name": "x", "permissions": ["users:manage"]}, headers=member)
    assert_error(bogus, 400, "invalid_request")


def test_viewers_cannot_mint_keys(client, make_user, login):
    viewer = bearer(login(make_user("vera", role="viewer"))["access_token"])
    assert_error(client.post("/api/v1/api-keys", json={"name": "x"}, headers=viewer), 403, "insufficient_scope")


def test_last_used_is_written_at_most_once_a_minute(client, admin, make_key, clock, dynamodb_calls):
    created = make_key(admin)
    headers = api_key(created["key"])

    dynamodb_calls.clear()
    client.get("/api/v1/me", headers=headers)
    first_use = client.get(f"/api/v1/api-keys/{created['id']}", headers=admin).get_json()["last_used_at"]
    assert first_use == clock.now().isoformat(timespec="seconds")
    assert dynamodb_calls.count("UpdateItem:accounts") == 1

    dynamodb_calls.clear()
    clock.advance(30)
    client.get("/api/v1/me", headers=headers)
    assert dynamodb_calls == ["GetItem:accounts", "UpdateItem:rate_limits"]  # no last-use write
    assert client.get(f"/api/v1/api-keys/{created['id']}", headers=admin).get_json()["last_used_at"] == first_use

    clock.advance(31)
    client.get("/api/v1/me", headers=headers)
    assert client.get(f"/api/v1/api-keys/{created['id']}", headers=admin).get_json()["last_used_at"] != first_use


@pytest.mark.parametrize(
    "body",
    [{}, {"name": ""}, {"name": "x" * 101}, {"name": "x", "tenant_id": "globex"}, {"name": "x", "permissions": []}],
)
def test_invalid_creation_bodies_are_400_and_store_nothing(client, admin, body):
    assert_error(client.post("/api/v1/api-keys", json=body, headers=admin), 400, "invalid_request")
    assert client.get("/api/v1/api-keys", headers=admin).get_json()["items"] == []


def test_an_expiry_that_overflows_in_utc_is_a_400(client, admin):
    response = client.post(
        "/api/v1/api-keys", json={"name": "x", "expires_at": "9999-12-31T20:00:00-05:00"}, headers=admin
    )
    assert_error(response, 400, "invalid_request")
