"""API8:2023 Security Misconfiguration: headers, no debug, no traces, no CORS unless configured."""

from __future__ import annotations

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
