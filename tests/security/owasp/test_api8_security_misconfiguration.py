"""API8:2023 Security Misconfiguration: headers, no debug, no traces, no CORS unless configured."""

from __future__ import annotations

import pytest

from tests.conftest import assert_error


def test_api_answers_are_not_sniffed_or_cached(client, world):
    for response in (client.get("/api/v1/me", headers=world.headers["admin-jwt"]), client.get("/api/v1/nope")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/api/v1/health").headers.get("Cache-Control", "")


def test_no_debug_mode_and_no_traces(app, client, monkeypatch):
    assert app.debug is False and not app.config.get("PROPAGATE_EXCEPTIONS")

    def boom(*_args, **_kwargs):
        raise ZeroDivisionError("internal detail")

    monkeypatch.setattr(app.extensions["nativemessage"].users, "find_by_username", boom)
    response = client.post("/api/v1/auth/login", json={"username": "a", "password": "b"})
    assert_error(response, 500, "internal_error")
    assert "ZeroDivisionError" not in response.get_data(as_text=True)
    assert "internal detail" not in response.get_data(as_text=True)


def test_cors_is_off(client, world):
    preflight = client.options(
        "/api/v1/me",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
                 "Access-Control-Request-Headers": "Authorization"},
    )  # fmt: skip
    actual = client.get("/api/v1/me", headers={**world.headers["admin-jwt"], "Origin": "https://evil.example"})
    for response in (preflight, actual):
        assert not any(name.startswith("Access-Control-") for name, _ in response.headers)


def test_no_server_version_or_framework_banner(client):
    response = client.get("/api/v1/health")
    assert "Werkzeug" not in response.headers.get("Server", "") or response.headers.get("Server") is None


def test_every_error_is_json_even_for_unusual_methods(client):
    for method in ("PUT", "TRACE", "PROPFIND"):
        response = client.open("/api/v1/me", method=method)
        assert response.mimetype == "application/json"
        assert response.status_code in (401, 405)


@pytest.mark.parametrize("name", ["a\x00b", "line\nbreak", "\u202eevil.exe", "in\u2066side", "   ", "\t"], ids=repr)
def test_key_names_refuse_control_and_bidi_characters_and_blanks(client, world, name):
    admin = world.headers["admin-jwt"]
    before = client.get("/api/v1/api-keys", headers=admin).get_json()["items"]
    assert_error(client.post("/api/v1/api-keys", json={"name": name}, headers=admin), 400, "invalid_request")
    assert client.get("/api/v1/api-keys", headers=admin).get_json()["items"] == before


@pytest.mark.parametrize("body", ["\x00", "nul\x00inside", "\u202eright to left", "   ", "\n\t"], ids=repr)
def test_message_bodies_refuse_control_and_bidi_characters_and_blanks(client, world, body):
    admin = world.headers["admin-jwt"]
    before = client.get("/api/v1/messages", headers=admin).get_json()["items"]
    response = client.post("/api/v1/messages", json={"to": "+14155550123", "body": body}, headers=admin)
    assert_error(response, 400, "invalid_request")
    assert client.get("/api/v1/messages", headers=admin).get_json()["items"] == before


def test_message_bodies_keep_lines_tabs_and_any_script(client, world):
    body = "Line one\n\tLine two: مرحبا, 你好"
    response = client.post(
        "/api/v1/messages", json={"to": "+14155550123", "body": body}, headers=world.headers["admin-jwt"]
    )
    assert response.status_code == 201 and response.get_json()["body"] == body


@pytest.mark.parametrize("to", ["+12", "+1415555012", "+999123456789"])
def test_recipients_must_be_possible_phone_numbers(client, world, to):
    response = client.post("/api/v1/messages", json={"to": to, "body": "hi"}, headers=world.headers["admin-jwt"])
    assert_error(response, 400, "invalid_request")


@pytest.mark.parametrize("to", ["+14155550123", "+442071838750", "+4930123456"])
def test_possible_numbers_are_accepted_in_e164_form(client, world, to):
    response = client.post("/api/v1/messages", json={"to": to, "body": "hi"}, headers=world.headers["admin-jwt"])
    assert response.status_code == 201 and response.get_json()["to"] == to


def test_a_header_larger_than_the_service_reads_is_a_431_envelope(client, dynamodb_calls):
    dynamodb_calls.clear()
    response = client.get("/api/v1/me", headers={"X-Padding": "p" * (64 * 1024 + 1)})
    assert_error(response, 431, "request_header_fields_too_large")
    assert dynamodb_calls == [] and response.headers["X-Request-Id"]
