"""Shared fixtures: moto-backed AWS, the app, a client, and helpers to make tenants, users and tokens."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

# Set before the app module is imported: tests never reach real AWS or a local endpoint.
os.environ["APP_ENV"] = "test"
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("JWT_SECRET_KEY", None)
os.environ.pop("JWT_SECRET_SSM_PARAMETER", None)

from flask import Flask
from flask.testing import FlaskClient
from moto import mock_aws

from app import create_app
from models.clock import FrozenClock
from models.passwords import hash_password
from models.repositories import Repositories
from models.store.tables import create_tables
from models.users import User

PASSWORD = "correct horse battery staple"


# TEST_DYNAMODB_LOCAL=1 runs the tests marked ``dynamodb_local`` against Amazon's DynamoDB Local
# instead of moto (make test does, where Java is available): stricter about expressions and types.
ON_DYNAMODB_LOCAL = os.environ.get("TEST_DYNAMODB_LOCAL") == "1"


@pytest.fixture(scope="session")
def dynamodb_local_endpoint() -> Iterator[str]:
    """One DynamoDB Local for the session (tests use tables of their own prefix)."""
    from tests.dynamodb_local import dynamodb_local, unavailable_reason

    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with dynamodb_local() as endpoint:
        yield endpoint


@pytest.fixture
def aws(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every AWS call inside goes to moto's in-memory mock (or, on request, DynamoDB Local)."""
    if ON_DYNAMODB_LOCAL:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", request.getfixturevalue("dynamodb_local_endpoint"))
        yield
        return
    with mock_aws():
        yield


@pytest.fixture(autouse=True)
def _limiter_counts_in_dynamodb_again() -> Iterator[None]:
    """Each test starts with the (module-global) limiter counting in its storage, not in memory.

    A test that makes DynamoDB fail switches flask-limiter to its in-memory fallback until a health
    check passes; in production one app lives per process, here that state must not leak.
    """
    from handlers.ratelimit import limiter

    limiter._storage_dead = False
    yield
    limiter._storage_dead = False


@pytest.fixture
def jwt_secret() -> str:
    """The signing secret of the test app."""
    return secrets.token_urlsafe(48)


@pytest.fixture
def app_with(aws: None, jwt_secret: str) -> Callable[..., Flask]:
    """Build an app in the test environment with some settings overridden, its tables created."""

    def build(**overrides: Any) -> Flask:
        # A shared DynamoDB Local keeps tables between tests: each app gets its own.
        prefix = f"t{secrets.token_hex(4)}-" if ON_DYNAMODB_LOCAL else "test-"
        settings = {"environment": "test", "jwt_secret_key": jwt_secret, "table_prefix": prefix, **overrides}
        application = create_app(settings)
        create_tables(repositories_of(application).db)
        return application

    return build


@pytest.fixture
def app(app_with: Callable[..., Flask]) -> Flask:
    """The app in the test environment, with its tables created (in moto, or DynamoDB Local)."""
    return app_with()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Flask's test client for ``app``."""
    return app.test_client()


@pytest.fixture
def repos(app: Flask) -> Repositories:
    """The app's repositories, for arranging state a test starts from."""
    return repositories_of(app)


def repositories_of(app: Flask) -> Repositories:
    """The repositories of an app."""
    return app.extensions["nativemessage"]


@dataclass
class Account:
    """A user created for a test, with the password to log in."""

    user: User
    password: str = PASSWORD

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def user_id(self) -> str:
        return self.user.user_id


@pytest.fixture
def make_user(repos: Repositories) -> Callable[..., Account]:
    """Create a user (and its tenant, if new) straight in the repositories."""

    def make(username: str, role: str = "admin", tenant: str = "acme", password: str = PASSWORD) -> Account:
        try:
            repos.tenants.get(tenant)
        except Exception:
            repos.tenants.create(tenant)
        return Account(repos.users.create(tenant, username, hash_password(password), role), password)

    return make


@pytest.fixture
def login(client: FlaskClient) -> Callable[[Account], dict[str, Any]]:
    """Log an account in over HTTP and return the token response."""

    def do_login(account: Account) -> dict[str, Any]:
        response = client.post("/api/v1/auth/login", json={"username": account.username, "password": account.password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return do_login


@pytest.fixture
def clock(repos: Repositories) -> FrozenClock:
    """Freeze the service's clock (key expiry, rotation grace, last use); tests advance it."""
    repos.clock = FrozenClock()
    return repos.clock


@pytest.fixture
def dynamodb_calls(repos: Repositories) -> Iterator[list[str]]:
    """The DynamoDB calls the app makes, in order, as ``Operation:table`` (botocore's own event hook)."""
    calls: list[str] = []
    prefix = repos.settings.table_prefix

    def record(event_name: str, params: dict[str, Any] | None = None, **_kwargs: Any) -> None:
        params = params or {}
        # A transaction names every table it writes, as "accounts+audit_events".
        tables = sorted({next(iter(item.values()))["TableName"] for item in params.get("TransactItems", [])})
        table = "+".join(name.removeprefix(prefix) for name in tables) or params.get("TableName", "").removeprefix(
            prefix
        )
        calls.append(f"{event_name.rsplit('.', 1)[-1]}:{table}")

    events = repos.db.client.meta.events
    events.register("before-parameter-build.dynamodb", record)
    yield calls
    events.unregister("before-parameter-build.dynamodb", record)


@pytest.fixture
def admin(make_user: Callable[..., Account], login: Callable[[Account], dict[str, Any]]) -> dict[str, str]:
    """Authorization headers of an admin of tenant acme."""
    return bearer(login(make_user("admin-acme", role="admin"))["access_token"])


@pytest.fixture
def make_key(client: FlaskClient) -> Callable[..., dict[str, Any]]:
    """Mint an API key over HTTP with the given headers; return the 201 body (which holds the key)."""

    def make(headers: dict[str, str], name: str = "ci", **fields: Any) -> dict[str, Any]:
        response = client.post("/api/v1/api-keys", json={"name": name, **fields}, headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return make


def dashboard_login(client: FlaskClient, username: str, password: str) -> Any:
    """Open the dashboard's login page and submit it (the client keeps the cookies); the answer."""
    page = client.get("/dashboard").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return client.post("/dashboard/login", data={"csrf_token": match[1], "username": username, "password": password})


def walk_pages(client: FlaskClient, path: str, headers: dict[str, str]) -> list[list[dict[str, Any]]]:
    """Follow ``next_cursor`` from the first page of a listing to its last; every page's items."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    separator = "&" if "?" in path else "?"
    while True:
        response = client.get(path + (f"{separator}cursor={cursor}" if cursor else ""), headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 1000, "the cursors go round in circles"


def api_key(key: str) -> dict[str, str]:
    """An X-API-Key header."""
    return {"X-API-Key": key}


def bearer(token: str) -> dict[str, str]:
    """An Authorization header for a bearer token."""
    return {"Authorization": f"Bearer {token}"}


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert the response is the JSON error envelope with this status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    return body["error"]
