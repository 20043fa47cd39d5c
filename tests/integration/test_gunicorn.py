"""The JWT flow end to end: real CLI, real gunicorn with two workers, moto's DynamoDB server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.integration.servers import (
    GunicornServer,
    check_cli,
    from_every_worker,
    gunicorn_server,
    moto_server,
    service_env,
)

pytestmark = pytest.mark.slow

TENANT = "acme"
USERNAME = "alice"
TIMEOUT = 10
WORKERS = 2


@dataclass
class Stack:
    """The running service and the admin provisioned in it."""

    server: GunicornServer
    password: str

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.server.url(path), timeout=TIMEOUT, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.server.url(path), timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def dynamodb_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def env(dynamodb_endpoint: str) -> dict[str, str]:
    return service_env(dynamodb_endpoint, jwt_secret=secrets.token_urlsafe(48))


@pytest.fixture(scope="module")
def stack(env: dict[str, str]) -> Iterator[Stack]:
    """Tables, tenant and admin made with the operator CLI, then gunicorn serving the app."""
    password = secrets.token_urlsafe(18)
    check_cli(env, "db", "init")
    assert check_cli(env, "tenants", "create", TENANT).strip() == TENANT
    user_id = check_cli(
        env, "users", "create", "--tenant", TENANT, "--username", USERNAME, "--role", "admin", "--password-stdin",
        stdin=password + "\n",
    ).strip()  # fmt: skip
    assert user_id.startswith("usr_")
    with gunicorn_server(env, workers=WORKERS) as server:
        yield Stack(server, password)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_invalid_token(response: requests.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "invalid_token"
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def assert_me(stack: Stack, access_token: str) -> None:
    response = stack.get("/api/v1/me", headers=bearer(access_token))
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["username"], me["tenant_id"], me["role"], me["auth"]) == (USERNAME, TENANT, "admin", "jwt")
    assert me["user_id"].startswith("usr_")


def test_login_refresh_logout_over_gunicorn(stack: Stack) -> None:
    login = stack.post("/api/v1/auth/login", json={"username": USERNAME, "password": stack.password})
    assert login.status_code == 200, login.text
    assert login.headers["Cache-Control"] == "no-store"
    tokens = login.json()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 900
    assert tokens["access_token"] and tokens["refresh_token"]
    assert_me(stack, tokens["access_token"])
    refresh_headers = bearer(tokens["refresh_token"])

    # A refresh token opens no endpoint but refresh; an access token cannot refresh.
    assert_invalid_token(stack.get("/api/v1/me", headers=refresh_headers))
    assert_invalid_token(stack.post("/api/v1/auth/refresh", headers=bearer(tokens["access_token"])))

    issued = {tokens["access_token"]}
    for _ in range(2):  # the same refresh token serves repeatedly until logout
        refreshed = stack.post("/api/v1/auth/refresh", headers=refresh_headers)
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.headers["Cache-Control"] == "no-store"
        body = refreshed.json()
        assert body["token_type"] == "Bearer"
        assert body["expires_in"] == 900
        assert body["access_token"] not in issued
        issued.add(body["access_token"])
        assert_me(stack, body["access_token"])

    logout = stack.post("/api/v1/auth/logout", headers=refresh_headers)
    assert logout.status_code == 204, logout.text
    assert logout.content == b""

    # Revocation lives in DynamoDB, not in the worker that handled logout: keep refreshing
    # (concurrently, so both sync workers must take requests) until each worker has refused it.
    responses = from_every_worker(
        stack.server, lambda extra: stack.post("/api/v1/auth/refresh", headers={**refresh_headers, **extra})
    )
    for response in responses:
        assert_invalid_token(response)
        assert "revoked" in response.json()["error"]["message"]


def test_revoked_api_key_is_refused_by_every_worker(stack: Stack) -> None:
    tokens = stack.post("/api/v1/auth/login", json={"username": USERNAME, "password": stack.password}).json()
    created = stack.post("/api/v1/api-keys", json={"name": "worker"}, headers=bearer(tokens["access_token"]))
    assert created.status_code == 201, created.text
    key_headers = {"X-API-Key": created.json()["key"]}
    for response in from_every_worker(
        stack.server, lambda extra: stack.get("/api/v1/me", headers={**key_headers, **extra})
    ):
        assert response.status_code == 200 and response.json()["auth"] == "api_key"

    revoked = requests.delete(
        stack.server.url(f"/api/v1/api-keys/{created.json()['id']}"),
        headers=bearer(tokens["access_token"]),
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 204

    for response in from_every_worker(
        stack.server, lambda extra: stack.get("/api/v1/me", headers={**key_headers, **extra})
    ):
        assert_invalid_token(response)


@pytest.mark.parametrize(
    ("path", "headers", "status", "code"),
    [
        ("/api/v1/" + "a" * 6000, {}, 404, "not_found"),  # over gunicorn's default 4,094-byte request line
        ("/api/v1/messages?cursor=" + "c" * 6000, {}, 401, "invalid_token"),
        ("/api/v1/me", {"X-API-Key": "k" * 20_000}, 401, "invalid_token"),  # over its default 8,190-byte header
        ("/api/v1/me", {"X-Padding": "p" * 70_000}, 431, "request_header_fields_too_large"),
    ],
    ids=["long path", "long query", "large credential header", "header over the app's limit"],
)
def test_long_urls_and_large_headers_get_the_envelope_not_gunicorns_page(stack, path, headers, status, code):
    response = stack.get(path, headers=headers)
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
