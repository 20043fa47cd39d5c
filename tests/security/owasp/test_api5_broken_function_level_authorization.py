"""API5:2023 Broken Function Level Authorization: the whole permission matrix, each role on each endpoint."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, assert_error, bearer

PRINCIPALS = ["admin-jwt", "member-jwt", "viewer-jwt", "admin-key", "member-key", "viewer-key", "none"]

# endpoint -> status for each principal, in PRINCIPALS order.
MATRIX = {
    "GET /me":                    (200, 200, 200, 200, 200, 200, 401),
    "POST /users":                (201, 403, 403, 403, 403, 403, 401),
    "GET /users":                 (200, 403, 403, 403, 403, 403, 401),
    "GET /users/{user}":          (200, 403, 403, 403, 403, 403, 401),
    "PATCH /users/{user}":        (200, 403, 403, 403, 403, 403, 401),
    "POST /api-keys":             (201, 201, 403, 403, 403, 403, 401),
    "GET /api-keys":              (200, 200, 403, 403, 403, 403, 401),
    "GET /api-keys/{own_key}":    (200, 200, 403, 403, 403, 403, 401),
    "DELETE /api-keys/{own_key}": (204, 204, 403, 403, 403, 403, 401),
    "POST /api-keys/{own_key}/rotate": (201, 201, 403, 403, 403, 403, 401),
    "POST /messages":             (201, 201, 403, 201, 201, 403, 401),
    "GET /messages":              (200, 200, 200, 200, 200, 200, 401),
    "GET /messages/{message}":    (200, 200, 200, 200, 200, 200, 401),
    "POST /auth/logout-all":      (204, 204, 204, 403, 403, 403, 401),
    "POST /me/password":          (200, 200, 200, 403, 403, 403, 401),
    "POST /users/{user}/password": (204, 403, 403, 403, 403, 403, 401),
    "GET /audit-events":          (200, 403, 403, 403, 403, 403, 401),
    # Past authorization: no enrolment to confirm (400), two-factor not on to disable (409).
    "POST /me/mfa/totp":          (201, 201, 201, 403, 403, 403, 401),
    "POST /me/mfa/totp/confirm":  (400, 400, 400, 403, 403, 403, 401),
    "POST /me/mfa/totp/disable":  (409, 409, 409, 403, 403, 403, 401),
}  # fmt: skip

BODIES = {
    "POST /users": {"username": "new-{n}", "password": "a long enough password", "role": "viewer"},
    "PATCH /users/{user}": {"role": "viewer"},
    "POST /api-keys": {"name": "matrix"},
    "POST /api-keys/{own_key}/rotate": {},
    "POST /messages": {"to": "+14155550123", "body": "matrix"},
    "POST /me/password": {"current_password": PASSWORD, "new_password": "changed in the matrix"},
    "POST /users/{user}/password": {"new_password": "reset in the matrix"},
    "POST /me/mfa/totp/confirm": {"code": "123456"},
    "POST /me/mfa/totp/disable": {"password": PASSWORD, "code": "123456"},
}

CASES = [
    (endpoint, principal, statuses[i])
    for endpoint, statuses in MATRIX.items()
    for i, principal in enumerate(PRINCIPALS)
]


@pytest.mark.parametrize(("endpoint", "principal", "expected"), CASES, ids=[f"{e} as {p}" for e, p, _ in CASES])
def test_permission_matrix(client, world, make_user, make_key, endpoint, principal, expected):
    method, template = endpoint.split(" ", 1)
    # Objects the caller may legitimately address: a viewer of acme, the member's own key, a message.
    owner = world.headers["member-jwt"] if principal.startswith("member") else world.headers["admin-jwt"]
    own_key = make_key(owner, name="target")["id"]
    message = client.post(
        "/api/v1/messages", json={"to": "+14155550123", "body": "t"}, headers=world.headers["admin-jwt"]
    )
    path = "/api/v1" + template.format(
        user=world.users["viewer"].user_id, own_key=own_key, message=message.get_json()["id"]
    )
    body = BODIES.get(endpoint)
    if body and "username" in body:
        body = {**body, "username": f"new-{principal}"}
    response = client.open(path, method=method, headers=world.headers[principal], json=body)
    assert response.status_code == expected, response.get_data(as_text=True)


def test_the_matrix_covers_every_documented_operation(client):
    documented = {
        f"{method.upper()} {path.removeprefix('/api/v1')}"
        for path, operations in client.get("/api/v1/openapi.json").get_json()["paths"].items()
        for method in operations
        if path not in ("/api/v1/health", "/api/v1/auth/login", "/api/v1/auth/refresh", "/api/v1/auth/logout")
    }
    covered = {endpoint.replace("{user}", "{user_id}").replace("{own_key}", "{key_id}").replace("{message}", "{message_id}")
               for endpoint in MATRIX}  # fmt: skip
    assert documented == covered


def test_a_demoted_users_keys_follow_at_once(client, world, make_user, login, make_key):
    member = make_user("demote-me@acme", role="member")
    key = {"X-API-Key": make_key(bearer(login(member)["access_token"]))["key"]}
    client.patch(f"/api/v1/users/{member.user_id}", json={"role": "viewer"}, headers=world.headers["admin-jwt"])
    assert client.post("/api/v1/messages", json={"to": "+14155550123", "body": "x"}, headers=key).status_code == 403


def test_an_admin_cannot_rotate_someone_elses_key(client, world, make_key):
    # A rotation hands over a working secret that acts as the key's owner: only the owner gets one.
    members = make_key(world.headers["member-jwt"], name="member's")
    response = client.post(f"/api/v1/api-keys/{members['id']}/rotate", json={}, headers=world.headers["admin-jwt"])
    assert_error(response, 403, "insufficient_scope")
    listed = client.get("/api/v1/api-keys", headers=world.headers["member-jwt"]).get_json()["items"]
    assert [key["id"] for key in listed if key["name"] == "member's"] == [members["id"]]  # no new key
    assert client.get("/api/v1/me", headers={"X-API-Key": members["key"]}).status_code == 200
    # The admin may still see and revoke it.
    assert client.get(f"/api/v1/api-keys/{members['id']}", headers=world.headers["admin-jwt"]).status_code == 200
    assert client.delete(f"/api/v1/api-keys/{members['id']}", headers=world.headers["admin-jwt"]).status_code == 204


def test_a_key_in_its_grace_period_cannot_be_rotated_again(client, world, make_key):
    headers = world.headers["member-jwt"]
    old = make_key(headers, name="rotating")
    new = client.post(f"/api/v1/api-keys/{old['id']}/rotate", json={"grace_seconds": 3600}, headers=headers)
    assert new.status_code == 201
    again = client.post(f"/api/v1/api-keys/{old['id']}/rotate", json={"grace_seconds": 3600}, headers=headers)
    assert_error(again, 409, "conflict")
    assert client.get("/api/v1/me", headers={"X-API-Key": old["key"]}).status_code == 200  # still in its grace
    successor = client.post(f"/api/v1/api-keys/{new.get_json()['id']}/rotate", json={}, headers=headers)
    assert successor.status_code == 201  # the replacement is the one to rotate


def test_a_member_cannot_reset_another_users_password(client, world):
    for target in ("admin", "viewer"):
        account = world.users[target]
        response = client.post(
            f"/api/v1/users/{account.user_id}/password",
            json={"new_password": "taken over by a member"},
            headers=world.headers["member-jwt"],
        )
        assert_error(response, 403, "insufficient_scope")
        login = client.post("/api/v1/auth/login", json={"username": account.username, "password": account.password})
        assert login.status_code == 200  # the password is as it was


def test_no_api_key_can_change_or_reset_a_password_whatever_its_creators_role(client, world):
    for principal in ("admin-key", "member-key", "viewer-key"):
        own = client.post(
            "/api/v1/me/password",
            json={"current_password": PASSWORD, "new_password": "set with a key"},
            headers=world.headers[principal],
        )
        assert_error(own, 403, "insufficient_scope")
        reset = client.post(
            f"/api/v1/users/{world.users['viewer'].user_id}/password",
            json={"new_password": "set with a key"},
            headers=world.headers[principal],
        )
        assert_error(reset, 403, "insufficient_scope")
    for role in ("admin", "viewer"):
        account = world.users[role]
        login = client.post("/api/v1/auth/login", json={"username": account.username, "password": account.password})
        assert login.status_code == 200
