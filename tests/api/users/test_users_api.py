"""Tenant admins manage their own tenant's users; nobody else does, and no hash ever leaves."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from tests.conftest import assert_error, bearer

pytestmark = pytest.mark.dynamodb_local

NEW_USER = {"username": "carol", "password": "a long enough password", "role": "member"}


@pytest.fixture
def admin_headers(make_user, login):
    return bearer(login(make_user("admin-acme", role="admin"))["access_token"])


def test_admin_creates_lists_gets_and_updates_users(client, admin_headers):
    created = client.post("/api/v1/users", json=NEW_USER, headers=admin_headers)
    assert created.status_code == 201
    user = created.get_json()
    assert user["username"] == "carol" and user["role"] == "member" and user["tenant_id"] == "acme"
    assert user["disabled"] is False
    assert created.headers["Location"] == f"/api/v1/users/{user['id']}"

    listed = client.get("/api/v1/users", headers=admin_headers).get_json()["items"]
    assert {item["username"] for item in listed} == {"admin-acme", "carol"}

    assert client.get(f"/api/v1/users/{user['id']}", headers=admin_headers).get_json() == user

    updated = client.patch(
        f"/api/v1/users/{user['id']}", json={"role": "viewer", "disabled": True}, headers=admin_headers
    )
    assert updated.status_code == 200
    assert updated.get_json()["role"] == "viewer" and updated.get_json()["disabled"] is True


def test_created_user_can_log_in(client, admin_headers):
    client.post("/api/v1/users", json=NEW_USER, headers=admin_headers)
    response = client.post("/api/v1/auth/login", json={"username": "carol", "password": NEW_USER["password"]})
    assert response.status_code == 200


def test_no_password_or_hash_in_any_users_response(client, admin_headers):
    responses = [client.post("/api/v1/users", json=NEW_USER, headers=admin_headers)]
    user_id = responses[0].get_json()["id"]
    responses.append(client.get("/api/v1/users", headers=admin_headers))
    responses.append(client.get(f"/api/v1/users/{user_id}", headers=admin_headers))
    responses.append(client.patch(f"/api/v1/users/{user_id}", json={"role": "viewer"}, headers=admin_headers))
    for response in responses:
        text = response.get_data(as_text=True)
        assert "argon2" not in text and "password" not in text and NEW_USER["password"] not in text


@pytest.mark.parametrize("spelling", ["carol", "CAROL", "Carol"])
def test_duplicate_username_in_any_case_is_a_conflict(client, admin_headers, spelling):
    client.post("/api/v1/users", json=NEW_USER, headers=admin_headers)
    response = client.post("/api/v1/users", json={**NEW_USER, "username": spelling}, headers=admin_headers)
    assert_error(response, 409, "conflict")


def test_username_is_unique_across_tenants(client, make_user, admin_headers):
    make_user("dave", tenant="globex")
    assert_error(
        client.post("/api/v1/users", json={**NEW_USER, "username": "DAVE"}, headers=admin_headers), 409, "conflict"
    )


@pytest.mark.parametrize("role", ["member", "viewer"])
def test_non_admins_cannot_manage_users(client, make_user, login, role):
    target = make_user("target", role="viewer")
    headers = bearer(login(make_user(f"{role}-user", role=role))["access_token"])

    assert_error(client.post("/api/v1/users", json=NEW_USER, headers=headers), 403, "insufficient_scope")
    assert_error(client.get("/api/v1/users", headers=headers), 403, "insufficient_scope")
    assert_error(client.get(f"/api/v1/users/{target.user_id}", headers=headers), 403, "insufficient_scope")
    assert_error(
        client.patch(f"/api/v1/users/{target.user_id}", json={"role": "admin"}, headers=headers),
        403,
        "insufficient_scope",
    )


def test_member_cannot_raise_their_own_role(client, repos, make_user, login):
    member = make_user("mallory", role="member")
    headers = bearer(login(member)["access_token"])

    response = client.patch(f"/api/v1/users/{member.user_id}", json={"role": "admin"}, headers=headers)

    assert_error(response, 403, "insufficient_scope")
    assert repos.users.find_by_username("mallory").role == "member"


def test_other_tenants_users_are_invisible(client, repos, make_user, admin_headers):
    outsider = make_user("outsider", role="member", tenant="globex")

    assert_error(client.get(f"/api/v1/users/{outsider.user_id}", headers=admin_headers), 404, "not_found")
    assert_error(
        client.patch(f"/api/v1/users/{outsider.user_id}", json={"disabled": True}, headers=admin_headers),
        404,
        "not_found",
    )
    listed = client.get("/api/v1/users", headers=admin_headers).get_json()["items"]
    assert "outsider" not in {item["username"] for item in listed}
    assert repos.users.find_by_username("outsider").disabled is False


def test_tenant_in_the_body_is_refused_not_trusted(client, repos, admin_headers):
    response = client.post("/api/v1/users", json={**NEW_USER, "tenant_id": "globex"}, headers=admin_headers)
    assert_error(response, 400, "invalid_request")
    assert repos.users.find_by_username("carol") is None


def test_admin_cannot_demote_or_disable_themselves(client, repos, make_user, login):
    admin = make_user("solo-admin", role="admin")
    headers = bearer(login(admin)["access_token"])

    assert_error(
        client.patch(f"/api/v1/users/{admin.user_id}", json={"role": "member"}, headers=headers), 409, "conflict"
    )
    assert_error(
        client.patch(f"/api/v1/users/{admin.user_id}", json={"disabled": True}, headers=headers), 409, "conflict"
    )
    assert repos.users.find_by_username("solo-admin").role == "admin"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_USER, "role": "owner"}, "role"),
        ({**NEW_USER, "password": "short"}, "password"),
        ({**NEW_USER, "username": "no spaces allowed"}, "username"),
        ({"username": "carol", "role": "member"}, "password"),
    ],
)
def test_invalid_user_bodies_are_400_with_details_and_store_nothing(client, repos, admin_headers, body, field):
    error = assert_error(client.post("/api/v1/users", json=body, headers=admin_headers), 400, "invalid_request")
    assert field in {detail["field"] for detail in error["details"]}
    assert repos.users.find_by_username(body["username"]) is None


def test_validation_details_never_echo_the_password(client, admin_headers):
    response = client.post("/api/v1/users", json={**NEW_USER, "password": "tiny-secret"}, headers=admin_headers)
    assert "tiny-secret" not in response.get_data(as_text=True)


def test_patch_with_nothing_to_change_is_400(client, make_user, admin_headers):
    target = make_user("target", role="viewer")
    assert_error(
        client.patch(f"/api/v1/users/{target.user_id}", json={}, headers=admin_headers), 400, "invalid_request"
    )


def test_invalid_user_id_is_404(client, admin_headers):
    assert_error(client.get("/api/v1/users/not-an-id", headers=admin_headers), 404, "not_found")


def test_an_admin_cannot_change_their_own_account_at_all(client, make_user, login):
    admin = make_user("solo", role="admin")
    headers = bearer(login(admin)["access_token"])
    assert_error(
        client.patch(f"/api/v1/users/{admin.user_id}", json={"disabled": False}, headers=headers), 409, "conflict"
    )


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
