"""API3:2023 Broken Object Property Level Authorization: mass assignment and over-exposed fields."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/api/v1/users",
            {"username": "eve", "password": "a long enough password", "role": "member", "tenant_id": "globex"},
        ),
        (
            "/api/v1/users",
            {"username": "eve", "password": "a long enough password", "role": "member", "disabled": True},
        ),
        ("/api/v1/users", {"username": "eve", "password": "a long enough password", "role": "member", "id": "usr_x"}),
        ("/api/v1/api-keys", {"name": "k", "tenant_id": "globex"}),
        ("/api/v1/api-keys", {"name": "k", "created_by": "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"}),
        ("/api/v1/api-keys", {"name": "k", "key": "nmk_test_chosen"}),
        ("/api/v1/messages", {"to": "+14155550123", "body": "x", "status": "delivered"}),
        ("/api/v1/messages", {"to": "+14155550123", "body": "x", "tenant_id": "globex"}),
    ],
)
def test_fields_a_client_may_not_set_are_refused(client, world, path, body):
    assert_error(client.post(path, json=body, headers=world.headers["admin-jwt"]), 400, "invalid_request")


@pytest.mark.parametrize(
    "extra",
    [
        {"user_id": "usr_01ARZ3NDEKTSV4RRFFQ69G5FAV"},
        {"username": "admin@acme"},
        {"password_hash": "x"},
        {"role": "admin"},
    ],
)
def test_password_bodies_take_only_the_passwords(client, world, extra):
    viewer = world.users["viewer"]
    own = {"current_password": viewer.password, "new_password": "a long enough password", **extra}
    reset = {"new_password": "a long enough password", **extra}
    for path, body, headers in (
        ("/api/v1/me/password", own, world.headers["viewer-jwt"]),
        (f"/api/v1/users/{viewer.user_id}/password", reset, world.headers["admin-jwt"]),
    ):
        assert_error(client.post(path, json=body, headers=headers), 400, "invalid_request")
    login = client.post("/api/v1/auth/login", json={"username": viewer.username, "password": viewer.password})
    assert login.status_code == 200  # nothing changed
    assert client.get("/api/v1/me", headers=world.headers["viewer-jwt"]).get_json()["role"] == "viewer"


@pytest.mark.parametrize("new_password", [123456789012345, True, ["a long enough password"], None])
def test_passwords_are_strings(client, world, new_password):
    viewer = world.users["viewer"]
    body = {"current_password": viewer.password, "new_password": new_password}
    response = client.post("/api/v1/me/password", json=body, headers=world.headers["viewer-jwt"])
    assert_error(response, 400, "invalid_request")


def test_patch_accepts_only_role_and_disabled(client, world):
    target = world.users["viewer"].user_id
    for body in ({"username": "renamed"}, {"tenant_id": "globex"}, {"password_hash": "x"}):
        response = client.patch(f"/api/v1/users/{target}", json=body, headers=world.headers["admin-jwt"])
        assert_error(response, 400, "invalid_request")


def test_no_response_exposes_hashes_digests_or_internal_keys(client, world):
    admin = world.headers["admin-jwt"]
    bodies = [
        client.get(path, headers=admin).get_data(as_text=True)
        for path in ("/api/v1/users", "/api/v1/api-keys", "/api/v1/messages", "/api/v1/me")
    ]
    for body in bodies:
        for secret_marker in ("argon2", "password", "digest", "APIKEY#", "USER#", "gsi1", "keys_version"):
            assert secret_marker not in body


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("users", {"disabled": "yes"}),
        ("users", {"disabled": 1}),
        ("users", {"role": ["admin"]}),
        ("rotate", {"grace_seconds": True}),
        ("rotate", {"grace_seconds": "60"}),
        ("keys", {"name": "n", "expires_at": 20_000_000_001}),  # was read as milliseconds
        ("keys", {"name": "n", "expires_at": 1_900_000_000}),  # was read as a Unix time
        ("keys", {"name": 12}),
        ("messages", {"to": "+14155550123", "body": 7}),
    ],
)
def test_request_fields_are_strictly_typed(client, world, make_key, path, body):
    admin = world.headers["admin-jwt"]
    viewer_id = world.users["viewer"].user_id
    key = make_key(admin, name="strict")
    target = {
        "users": ("PATCH", f"/api/v1/users/{viewer_id}"),
        "rotate": ("POST", f"/api/v1/api-keys/{key['id']}/rotate"),
        "keys": ("POST", "/api/v1/api-keys"),
        "messages": ("POST", "/api/v1/messages"),
    }[path]
    keys_before = client.get("/api/v1/api-keys", headers=admin).get_json()["items"]
    response = client.open(target[1], method=target[0], json=body, headers=admin)
    assert_error(response, 400, "invalid_request")
    assert client.get(f"/api/v1/users/{viewer_id}", headers=admin).get_json()["disabled"] is False
    assert client.get("/api/v1/api-keys", headers=admin).get_json()["items"] == keys_before
