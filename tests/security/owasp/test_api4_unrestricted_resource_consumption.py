"""API4:2023 Unrestricted Resource Consumption: body, page and header sizes; guessing limits."""

from __future__ import annotations

import re
import time

import pytest

from app import create_app
from models.passwords import hash_password
from models.store.tables import create_tables
from tests.conftest import PASSWORD, api_key, assert_error, repositories_of


def test_bodies_over_a_mebibyte_are_refused_before_parsing(client, world):
    body = b'{"to": "+14155550123", "body": "' + b"x" * (1024 * 1024) + b'"}'
    response = client.post(
        "/api/v1/messages", data=body, content_type="application/json", headers=world.headers["admin-jwt"]
    )
    assert_error(response, 413, "payload_too_large")


@pytest.mark.parametrize("listing", ["/api/v1/messages", "/api/v1/users", "/api/v1/api-keys"])
def test_page_size_is_capped(client, world, listing):
    assert_error(client.get(f"{listing}?limit=1000", headers=world.headers["admin-jwt"]), 400, "invalid_request")


@pytest.fixture
def query_limits(repos):
    """The ``Limit`` of every DynamoDB Query the app makes (what bounds the items it reads)."""
    limits: list[int] = []

    def record(params, **_kwargs):
        limits.append(params.get("Limit", 10**9))

    events = repos.db.client.meta.events
    events.register("provide-client-params.dynamodb.Query", record)
    yield limits
    events.unregister("provide-client-params.dynamodb.Query", record)


def test_a_filtered_page_reads_a_bounded_number_of_items(client, world, make_key, query_limits, monkeypatch):
    # Bound the read-ahead to 10 index items a request, then hide the member's keys among 30 others.
    monkeypatch.setattr("models.store.tenant_index.MAX_ITEMS_READ", 10)
    member, admin = world.headers["member-jwt"], world.headers["admin-jwt"]
    for n in range(30):
        make_key(admin, name=f"admin {n}")
    own = [make_key(member, name=f"member {n}")["id"] for n in range(2)]

    seen, cursor, requests = [], "", 0
    while cursor is not None:
        query_limits.clear()
        page = client.get(f"/api/v1/api-keys?limit=5&cursor={cursor}", headers=member).get_json()
        requests += 1
        assert query_limits and sum(query_limits) <= 10, query_limits  # never past the bound, whatever the limit
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    # Short pages on the way, and every one of the member's keys (with the one made for the world) once.
    assert requests > 2 and len(seen) == len(set(seen)) == 3 and set(own) < set(seen)


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


def test_current_password_guessing_is_bounded_like_login_guessing(client, make_user, login):
    # A stolen access token must not be an unlimited oracle for the account's password.
    headers = {"Authorization": f"Bearer {login(make_user('alice'))['access_token']}"}
    statuses = [
        client.post(
            "/api/v1/me/password",
            json={"current_password": f"g{n}", "new_password": "what the thief wants"},
            headers=headers,
        ).status_code
        for n in range(11)
    ]
    assert statuses == [401] * 10 + [429]  # the login's 10 failures per 15 minutes per username and IP


# --- found by the outside review (issue 13) ---


@pytest.fixture
def nat_app(aws, jwt_secret):
    """An app whose anonymous budget per IP is 3 a minute, as if many people shared one NAT."""
    application = create_app(
        {
            "environment": "test",
            "jwt_secret_key": jwt_secret,
            "table_prefix": "nat-",
            "unauthenticated_rate_limit": "3/minute",
        }
    )
    create_tables(repositories_of(application).db)
    repos = repositories_of(application)
    repos.tenants.create("acme")
    repos.users.create("acme", "alice", hash_password(PASSWORD), "member")
    return application


def test_a_dashboard_session_counts_against_its_tenant_not_its_networks_ip(nat_app):
    client = nat_app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/dashboard").get_data(as_text=True))[1]
    login = client.post("/dashboard/login", data={"csrf_token": token, "username": "alice", "password": PASSWORD})
    assert login.status_code == 303
    # Someone else behind the same address uses up what is left of its anonymous budget (the login
    # page and the login itself were anonymous requests too).
    neighbours = nat_app.test_client()
    assert [neighbours.get("/api/v1/me").status_code for _ in range(2)] == [401, 429]

    for _ in range(3):
        page = client.get("/dashboard/settings/api-keys")
        assert page.status_code == 200
        assert page.headers["X-RateLimit-Limit"] == "200"  # the tenant's limit, not the IP's 3


def test_a_refused_credentials_retry_after_never_exceeds_its_window(client):
    responses = [client.get("/api/v1/me", headers=api_key(f"nmk_test_guess{n}")) for n in range(61)]
    assert responses[-1].status_code == 429
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= 60


def test_login_answers_describe_the_per_minute_login_limit(client, make_user):
    alice = make_user("alice")
    answers = [
        client.post("/api/v1/auth/login", json={"username": "alice", "password": password})
        for password in ("wrong one", alice.password)
    ]
    for answer in answers:
        assert answer.headers["X-RateLimit-Limit"] == "30"  # attempts per minute per IP, as docs/api.md says
        assert int(answer.headers["X-RateLimit-Reset"]) - time.time() <= 60
