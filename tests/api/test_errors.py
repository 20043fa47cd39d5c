"""One JSON envelope for every error: ours, Werkzeug's and flask-jwt-extended's."""

from __future__ import annotations

import json

import pytest

from tests.conftest import assert_error, bearer


@pytest.mark.parametrize(
    ("kwargs", "message_part"),
    [
        ({"data": "{not json", "content_type": "application/json"}, "not valid JSON"),
        ({"data": "[1, 2]", "content_type": "application/json"}, "JSON object"),
        ({"data": "username=a&password=b", "content_type": "application/x-www-form-urlencoded"}, "Content-Type"),
        ({"data": "", "content_type": "application/json"}, "not valid JSON"),
    ],
)
def test_malformed_bodies_are_400(client, kwargs, message_part):
    error = assert_error(client.post("/api/v1/auth/login", **kwargs), 400, "invalid_request")
    assert message_part in error["message"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"username": 1, "password": "x"}, {"username"}),
        ({"username": "alice"}, {"password"}),
        ({}, {"username", "password"}),
        ({"username": "alice", "password": "x", "admin": True}, {"admin"}),
        ({"username": ["alice"], "password": {"a": 1}}, {"username", "password"}),
    ],
)
def test_wrong_types_missing_and_unknown_fields_are_400_with_details(client, body, fields):
    error = assert_error(client.post("/api/v1/auth/login", json=body), 400, "invalid_request")
    assert {detail["field"] for detail in error["details"]} == fields


def test_oversized_body_is_413(client):
    response = client.post(
        "/api/v1/auth/login", data=b'{"username": "' + b"a" * (3 * 1024 * 1024) + b'"}', content_type="application/json"
    )
    assert_error(response, 413, "payload_too_large")


def test_unknown_path_is_json_404(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")
    assert_error(client.get("/"), 404, "not_found")


def test_wrong_method_is_json_405_with_allow(client):
    response = client.delete("/api/v1/auth/login")
    assert_error(response, 405, "method_not_allowed")
    assert "POST" in response.headers["Allow"]


def test_unexpected_errors_are_a_500_envelope_without_a_trace(app, client, monkeypatch, caplog):
    def explode(*_args, **_kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.extensions["nativemessage"].users, "find_by_username", explode)
    response = client.post("/api/v1/auth/login", json={"username": "alice", "password": "x"})

    assert_error(response, 500, "internal_error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)


def test_dynamodb_throttling_is_503_with_retry_after(app, client, monkeypatch):
    from botocore.exceptions import ClientError

    db = app.extensions["nativemessage"].db

    def throttled(**_kwargs):
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "GetItem"
        )

    monkeypatch.setattr(db.client, "get_item", throttled)
    response = client.post("/api/v1/auth/login", json={"username": "alice", "password": "x"})

    assert_error(response, 503, "unavailable")
    assert response.headers["Retry-After"] == "1"


def test_dynamodb_unreachable_is_503(app, client, monkeypatch):
    from botocore.exceptions import EndpointConnectionError

    db = app.extensions["nativemessage"].db

    def unreachable(**_kwargs):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    monkeypatch.setattr(db.client, "get_item", unreachable)
    assert_error(client.post("/api/v1/auth/login", json={"username": "a", "password": "x"}), 503, "unavailable")


def test_every_response_has_a_request_id(client):
    assert client.get("/api/v1/health").headers["X-Request-Id"]
    assert client.get("/api/v1/health", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    # A header that is not a plain id is replaced, so log lines cannot be forged through it.
    forged = client.get("/api/v1/health", headers={"X-Request-Id": 'x", "status": 200'}).headers["X-Request-Id"]
    assert forged != 'x", "status": 200'


def test_deeply_nested_json_is_a_400_on_every_json_endpoint(client, admin):
    nested = "[" * 50_000 + "]" * 50_000
    for path in ("/api/v1/auth/login", "/api/v1/users", "/api/v1/api-keys", "/api/v1/messages"):
        assert_error(
            client.post(path, data=nested, content_type="application/json", headers=admin), 400, "invalid_request"
        )


def test_authentication_and_permission_come_before_validation(client, make_user, login):
    viewer = bearer(login(make_user("vera", role="viewer"))["access_token"])
    bad_body = {"username": 1}
    assert_error(client.post("/api/v1/users", json=bad_body), 401, "invalid_token")
    assert_error(client.post("/api/v1/users", json=bad_body, headers=viewer), 403, "insufficient_scope")
    assert_error(client.post("/api/v1/messages", json={}, headers=viewer), 403, "insufficient_scope")


@pytest.mark.parametrize("path", ["/api/v1//me", "/api/v1/messages/", "//api/v1/health"])
def test_odd_paths_are_json_never_an_html_redirect(client, admin, path):
    response = client.get(path, headers=admin)
    assert response.mimetype == "application/json"
    assert response.status_code in (200, 404)
    json.loads(response.get_data(as_text=True))
