"""Authenticating with X-API-Key: cheap refusals, inherited rights, no credential management."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from models.key_format import generate_key
from tests.conftest import api_key, assert_error, bearer

pytestmark = pytest.mark.dynamodb_local

MANAGEMENT_CALLS = [
    ("post", "/api/v1/api-keys", {"name": "x"}),
    ("get", "/api/v1/api-keys", None),
    ("get", "/api/v1/api-keys/{key_id}", None),
    ("delete", "/api/v1/api-keys/{key_id}", None),
    ("post", "/api/v1/api-keys/{key_id}/rotate", {}),
    ("post", "/api/v1/users", {"username": "eve", "password": "a long enough password", "role": "admin"}),
    ("get", "/api/v1/users", None),
    ("get", "/api/v1/users/{user_id}", None),
    ("patch", "/api/v1/users/{user_id}", {"role": "viewer"}),
]


def one_char_changed(key: str) -> str:
    position = len("nmk_test_") + 5
    replacement = "A" if key[position] != "A" else "B"
    return key[:position] + replacement + key[position + 1 :]


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param(lambda key: "nmk_live_1234567890abcdef", id="published-sample"),
        pytest.param(one_char_changed, id="one-character-changed"),
        pytest.param(lambda key: key[:-1], id="truncated"),
        pytest.param(lambda key: key + "0", id="one-too-long"),
        pytest.param(lambda key: "nmk_live_" + key[len("nmk_test_") :], id="other-stage-prefix"),
        pytest.param(lambda key: "x" * 5000, id="5000-characters"),
        pytest.param(lambda key: "", id="empty"),
    ],
)
def test_malformed_keys_are_refused_without_a_database_read(client, admin, make_key, dynamodb_calls, presented):
    key = make_key(admin)["key"]
    dynamodb_calls.clear()

    response = client.get("/api/v1/me", headers=api_key(presented(key)))

    assert_error(response, 401, "invalid_token")
    assert dynamodb_calls == []


def test_a_well_formed_but_unknown_key_costs_one_read_and_gets_the_same_answer(client, admin, make_key, dynamodb_calls):
    revoked = make_key(admin)
    client.delete(f"/api/v1/api-keys/{revoked['id']}", headers=admin)
    dynamodb_calls.clear()

    unknown = client.get("/api/v1/me", headers=api_key(generate_key("nmk_test_")))
    # The lookup, then the per-IP counter shared by every process: a real guess is bounded everywhere.
    assert dynamodb_calls == ["GetItem:accounts", "UpdateItem:rate_limits"]
    revoked_answer = client.get("/api/v1/me", headers=api_key(revoked["key"]))
    malformed = client.get("/api/v1/me", headers=api_key("nmk_live_1234567890abcdef"))

    assert_error(unknown, 401, "invalid_token")
    assert unknown.get_json() == revoked_answer.get_json() == malformed.get_json()


def test_an_api_key_request_costs_at_most_two_dynamodb_calls(client, admin, make_key, dynamodb_calls, clock):
    key = make_key(admin)["key"]
    client.get("/api/v1/me", headers=api_key(key))  # first use of the minute records last_used_at
    dynamodb_calls.clear()

    for _ in range(5):
        assert client.get("/api/v1/me", headers=api_key(key)).status_code == 200

    # Per request: the key lookup, and at most one write to the tenant's counter (permits are leased
    # in batches, so most requests write nothing).
    assert dynamodb_calls.count("GetItem:accounts") == 5
    assert set(dynamodb_calls) <= {"GetItem:accounts", "UpdateItem:rate_limits"}
    assert dynamodb_calls.count("UpdateItem:rate_limits") <= 5


def test_role_change_narrows_the_keys_rights_at_once(client, make_user, login, admin, make_key):
    member = make_user("maria", role="member")
    key = make_key(bearer(login(member)["access_token"]))["key"]
    assert client.get("/api/v1/me", headers=api_key(key)).get_json()["permissions"] == [
        "messages:read",
        "messages:send",
    ]

    patched = client.patch(f"/api/v1/users/{member.user_id}", json={"role": "viewer"}, headers=admin)
    assert patched.status_code == 200

    me = client.get("/api/v1/me", headers=api_key(key)).get_json()
    assert me["role"] == "viewer" and me["permissions"] == ["messages:read"]


def test_disabled_creator_stops_every_key_at_once(client, make_user, login, admin, make_key):
    member = make_user("maria", role="member")
    headers = bearer(login(member)["access_token"])
    keys = [make_key(headers, name=f"k{i}")["key"] for i in range(3)]

    client.patch(f"/api/v1/users/{member.user_id}", json={"disabled": True}, headers=admin)
    for key in keys:
        assert_error(client.get("/api/v1/me", headers=api_key(key)), 401, "invalid_token")

    client.patch(f"/api/v1/users/{member.user_id}", json={"disabled": False}, headers=admin)
    for key in keys:
        assert client.get("/api/v1/me", headers=api_key(key)).status_code == 200


def test_deleted_creator_stops_their_keys(client, repos, make_user, login, make_key):
    member = make_user("maria", role="member")
    key = make_key(bearer(login(member)["access_token"]))["key"]

    repos.users.delete(member.user)

    assert_error(client.get("/api/v1/me", headers=api_key(key)), 401, "invalid_token")


def test_revoked_and_rotated_keys_do_not_follow_role_changes_into_trouble(client, make_user, login, admin, make_key):
    # Role changes rewrite only live keys; revoked ones are gone from the owner's list.
    member = make_user("maria", role="member")
    headers = bearer(login(member)["access_token"])
    revoked = make_key(headers)
    client.delete(f"/api/v1/api-keys/{revoked['id']}", headers=headers)
    live = make_key(headers)["key"]

    assert client.patch(f"/api/v1/users/{member.user_id}", json={"role": "viewer"}, headers=admin).status_code == 200
    assert client.get("/api/v1/me", headers=api_key(live)).get_json()["role"] == "viewer"
    assert_error(client.get("/api/v1/me", headers=api_key(revoked["key"])), 401, "invalid_token")


@pytest.mark.parametrize(("method", "path", "body"), MANAGEMENT_CALLS)
def test_api_keys_cannot_manage_keys_or_users(client, make_user, admin, make_key, method, path, body):
    target = make_user("target", role="member")
    admins_key = make_key(admin)
    url = path.format(key_id=admins_key["id"], user_id=target.user_id)
    kwargs = {"json": body} if body is not None else {}

    response = getattr(client, method)(url, headers=api_key(admins_key["key"]), **kwargs)

    assert_error(response, 403, "insufficient_scope")
    assert client.get("/api/v1/me", headers=api_key(admins_key["key"])).status_code == 200


def test_both_credentials_at_once_is_a_bad_request(client, make_user, login, make_key):
    tokens = login(make_user("alice"))
    key = make_key(bearer(tokens["access_token"]))["key"]
    response = client.get("/api/v1/me", headers={**api_key(key), **bearer(tokens["access_token"])})
    assert_error(response, 400, "invalid_request")


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
