"""API4:2023 Unrestricted Resource Consumption: body, page and header sizes; guessing limits."""

from __future__ import annotations

from tests.conftest import api_key, assert_error


def test_bodies_over_a_mebibyte_are_refused_before_parsing(client, world):
    body = b'{"to": "+14155550123", "body": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/messages", data=body, content_type="application/json", headers=world.headers["admin-jwt"]
    )
    assert_error(response, 413, "payload_too_large")


def test_page_size_is_capped(client, world):
    assert_error(client.get("/api/v1/messages?limit=1000", headers=world.headers["admin-jwt"]), 400, "invalid_request")


def test_message_bodies_are_capped(client, world):
    response = client.post(
        "/api/v1/messages", json={"to": "+14155550123", "body": "x" * 5000}, headers=world.headers["admin-jwt"]
    )
    assert_error(response, 400, "invalid_request")


def test_an_oversized_credential_header_is_refused_cheaply(client, dynamodb_calls):
    dynamodb_calls.clear()
    assert_error(client.get("/api/v1/me", headers=api_key("k" * 65_536)), 401, "invalid_token")
    assert dynamodb_calls == []


def test_key_guessing_is_bounded_per_ip(client):
    # The default: 60 refused credentials per minute per IP (counted in memory, no DynamoDB call).
    statuses = [client.get("/api/v1/me", headers=api_key(f"nmk_test_guess{n}")).status_code for n in range(61)]
    assert statuses == [401] * 60 + [429]


def test_login_guessing_is_bounded_per_username_and_per_ip(client, make_user):
    make_user("alice")
    per_user = [
        client.post("/api/v1/auth/login", json={"username": "alice", "password": f"g{n}"}).status_code
        for n in range(11)
    ]
    assert per_user[-1] == 429
    per_ip = [
        client.post("/api/v1/auth/login", json={"username": f"u{n}", "password": "g"}).status_code for n in range(31)
    ]
    assert per_ip[-1] == 429  # 30 attempts per minute per IP, whatever the usernames
