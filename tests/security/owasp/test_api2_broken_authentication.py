"""API2:2023 Broken Authentication: forged and replayed credentials, one answer for all of them."""

from __future__ import annotations

import pytest

from models.key_format import generate_key
from tests.conftest import api_key, assert_error, bearer


def test_replayed_credentials_are_refused(client, make_user, login, make_key, admin, clock):
    account = make_user("alice", role="member")
    tokens = login(account)
    headers = bearer(tokens["access_token"])
    revoked = make_key(headers, name="revoked")
    rotated = make_key(headers, name="rotated")
    client.delete(f"/api/v1/api-keys/{revoked['id']}", headers=headers)
    client.post(f"/api/v1/api-keys/{rotated['id']}/rotate", json={"grace_seconds": 0}, headers=headers)
    client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"]))

    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])), 401, "invalid_token")
    for key in (revoked["key"], rotated["key"]):
        assert_error(client.get("/api/v1/me", headers=api_key(key)), 401, "invalid_token")


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "nmk_live_1234567890abcdef"},
        {"X-API-Key": generate_key("nmk_test_")},
        {"X-API-Key": generate_key("nmk_live_")},
        {"X-API-Key": "nmk_test_" + "A" * 36},
        {"X-API-Key": "' OR 1=1 --"},
        {"X-API-Key": "x" * 10_000},
        {"Authorization": "Bearer " + "e" * 10_000},
        {"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
        {"Authorization": "bearer lowercase-scheme"},
    ],
)
def test_forged_credentials_get_one_answer(client, headers):
    response = client.get("/api/v1/me", headers=headers)
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer realm=")


def test_login_answers_do_not_tell_which_part_was_wrong(client, make_user, repos):
    make_user("alice")
    disabled = make_user("dora")
    repos.users.update(disabled.user, disabled=True)
    answers = {
        client.post("/api/v1/auth/login", json={"username": name, "password": password}).get_data(as_text=True)
        for name, password in (("alice", "wrong password"), ("nobody", "whatever"), ("dora", disabled.password))
    }
    assert len(answers) == 1
