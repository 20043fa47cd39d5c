"""Per-tenant limits over HTTP: headers, 429s, overrides, no writes once full, client IPs, login limits."""

from __future__ import annotations

import logging
import re
import time

import pytest

from app import create_app
from models.store.tables import create_tables
from tests.conftest import api_key, assert_error, bearer, repositories_of

RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "RateLimit-Policy", "RateLimit")
# draft-ietf-httpapi-ratelimit-headers: one item, a quoted policy name with integer parameters.
STANDARD_FIELD = re.compile(r'"(?P<policy>[a-z-]+)"(?P<params>(;[a-z]+=[0-9]+)+)')


def standard_fields(response) -> tuple[str, dict[str, int], dict[str, int]]:
    """The policy name, the RateLimit-Policy parameters and the RateLimit parameters of a response."""
    parsed = []
    for name in ("RateLimit-Policy", "RateLimit"):
        match = STANDARD_FIELD.fullmatch(response.headers[name])
        assert match, f"{name}: {response.headers[name]!r}"
        params = dict(param.split("=") for param in match["params"].strip(";").split(";"))
        parsed.append((match["policy"], {key: int(value) for key, value in params.items()}))
    (policy, quota), (same_policy, state) = parsed
    assert policy == same_policy
    return policy, quota, state


def assert_standard_fields_agree(response, policy: str, window: int) -> dict[str, int]:
    """RateLimit-Policy and RateLimit name ``policy`` and say what X-RateLimit-* and Retry-After say."""
    named, quota, state = standard_fields(response)
    assert named == policy
    assert quota == {"q": int(response.headers["X-RateLimit-Limit"]), "w": window}
    assert state["r"] == int(response.headers["X-RateLimit-Remaining"])
    reset_in = int(response.headers["X-RateLimit-Reset"]) - time.time()
    assert 0 <= state["t"] <= window and abs(state["t"] - reset_in) <= 1
    if "Retry-After" in response.headers:
        assert int(response.headers["Retry-After"]) == max(1, state["t"])
    return state


def set_limit(app, tenant: str, limit: int) -> None:
    result = app.test_cli_runner().invoke(args=["tenants", "set-limit", tenant, str(limit)])
    assert result.exit_code == 0, result.output


def test_headers_count_down_from_the_tenants_limit(client, admin):
    before = time.time()
    remaining = []
    for _ in range(3):
        response = client.get("/api/v1/me", headers=admin)
        assert response.headers["X-RateLimit-Limit"] == "200"
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
        reset = int(response.headers["X-RateLimit-Reset"])
        assert before < reset <= time.time() + 60
        assert response.headers["RateLimit-Policy"] == '"tenant";q=200;w=60'
        assert_standard_fields_agree(response, "tenant", 60)
    assert remaining == [199, 198, 197]  # the admin fixture's login counted against the IP, not the tenant


def test_jwt_and_api_key_requests_share_the_tenants_count(client, make_user, login, admin, make_key):
    key = make_key(admin)["key"]
    first = int(client.get("/api/v1/me", headers=admin).headers["X-RateLimit-Remaining"])
    assert int(client.get("/api/v1/me", headers=api_key(key)).headers["X-RateLimit-Remaining"]) == first - 1
    member = bearer(login(make_user("maria", role="member"))["access_token"])
    assert int(client.get("/api/v1/me", headers=member).headers["X-RateLimit-Remaining"]) == first - 2


def test_other_tenants_have_their_own_count(app, client, admin, make_user, login):
    set_limit(app, "acme", 2)
    app.extensions["nativemessage"].tenant_cache.clear()
    outsider = bearer(login(make_user("olga", tenant="globex"))["access_token"])
    for _ in range(3):
        client.get("/api/v1/me", headers=admin)
    assert client.get("/api/v1/me", headers=admin).status_code == 429
    assert client.get("/api/v1/me", headers=outsider).status_code == 200


def test_over_the_limit_is_a_429_envelope_with_retry_after(app, client, admin):
    set_limit(app, "acme", 3)
    app.extensions["nativemessage"].tenant_cache.clear()
    statuses = [client.get("/api/v1/me", headers=admin).status_code for _ in range(3)]
    response = client.get("/api/v1/me", headers=admin)

    assert statuses == [200, 200, 200]
    assert_error(response, 429, "rate_limited")
    assert response.headers["X-RateLimit-Limit"] == "3"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert int(response.headers["X-RateLimit-Reset"]) <= time.time() + 60
    assert response.headers["RateLimit-Policy"] == '"tenant";q=3;w=60'
    assert assert_standard_fields_agree(response, "tenant", 60)["r"] == 0


def test_retry_after_only_on_429(client, admin):
    assert "Retry-After" not in client.get("/api/v1/me", headers=admin).headers


def test_errors_of_authenticated_requests_carry_the_headers(client, make_user, login, admin):
    viewer = bearer(login(make_user("vera", role="viewer"))["access_token"])
    forbidden = client.get("/api/v1/users", headers=viewer)
    missing = client.get("/api/v1/users/usr_01ARZ3NDEKTSV4RRFFQ69G5FAV", headers=admin)
    assert forbidden.status_code == 403 and missing.status_code == 404
    for response in (forbidden, missing):
        assert all(name in response.headers for name in RATE_HEADERS)


def test_health_and_openapi_are_not_limited(client):
    for path in ("/api/v1/health", "/api/v1/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200
        assert not any(name in response.headers for name in RATE_HEADERS)


def test_a_tenant_override_takes_effect_on_the_next_window(app, client, admin, clock):
    client.get("/api/v1/me", headers=admin)  # the limit of 200 is now cached for this window
    set_limit(app, "acme", 5)
    assert client.get("/api/v1/me", headers=admin).headers["X-RateLimit-Limit"] == "200"

    clock.advance(60)
    statuses = [client.get("/api/v1/me", headers=admin).status_code for _ in range(6)]

    assert statuses == [200] * 5 + [429]


def test_once_full_this_process_rejects_without_writing(app, client, admin, dynamodb_calls):
    set_limit(app, "acme", 2)
    app.extensions["nativemessage"].tenant_cache.clear()
    dynamodb_calls.clear()
    for _ in range(3):  # 200, 200, then the 429 that tells this process the window is full
        client.get("/api/v1/me", headers=admin)
    # Those were counted in DynamoDB (not in a memory fallback left by another test): one lease each
    # for the two admitted, after which the process knows the window is full without a third write.
    assert dynamodb_calls.count("UpdateItem:rate_limits") == 2
    dynamodb_calls.clear()

    rejected = [client.get("/api/v1/me", headers=admin) for _ in range(5)]

    assert [response.status_code for response in rejected] == [429] * 5
    assert dynamodb_calls == []
    for response in rejected:
        assert_error(response, 429, "rate_limited")
        assert response.headers["X-RateLimit-Remaining"] == "0" and response.headers["X-RateLimit-Limit"] == "2"
        assert int(response.headers["Retry-After"]) >= 1
        assert_standard_fields_agree(response, "tenant", 60)  # answered from memory, with the same fields


@pytest.fixture
def strict_app(app_with):
    """An app whose unauthenticated and login limits are small enough to reach in a test."""
    return app_with(unauthenticated_rate_limit="3/minute")


def test_a_forwarded_for_header_does_not_change_the_clients_ip(strict_app):
    client = strict_app.test_client()
    statuses = [client.get("/api/v1/me", headers={"X-Forwarded-For": f"1.2.3.{n}"}).status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_behind_a_trusted_proxy_the_last_forwarded_hop_is_the_client(aws, jwt_secret):
    app = create_app(
        {"environment": "test", "jwt_secret_key": jwt_secret, "unauthenticated_rate_limit": "2/minute",
         "trusted_proxy_count": 1}
    )  # fmt: skip
    create_tables(repositories_of(app).db)
    client = app.test_client()
    # The proxy appends the address it saw; anything before that is the client's own claim.
    spoofed = [client.get("/api/v1/me", headers={"X-Forwarded-For": f"6.6.6.{n}, 9.9.9.9"}) for n in range(3)]
    other = client.get("/api/v1/me", headers={"X-Forwarded-For": "8.8.8.8"})
    assert [r.status_code for r in spoofed] == [401, 401, 429]
    assert other.status_code == 401


def test_on_lambda_the_ip_comes_from_the_api_gateway_event(strict_app):
    client = strict_app.test_client()

    def call(source_ip: str, version: str) -> int:
        context = {"http": {"sourceIp": source_ip}} if version == "2.0" else {"identity": {"sourceIp": source_ip}}
        event = {"version": version, "requestContext": context}
        return client.get("/api/v1/me", environ_base={"lambda.event": event, "REMOTE_ADDR": "127.0.0.1"}).status_code

    assert [call("203.0.113.7", "1.0") for _ in range(4)] == [401, 401, 401, 429]
    assert call("203.0.113.8", "2.0") == 401  # another address, another count


def test_refused_credentials_are_counted_per_ip_without_dynamodb(strict_app):
    client = strict_app.test_client()
    calls: list[str] = []
    repositories_of(strict_app).db.client.meta.events.register(
        "before-parameter-build.dynamodb", lambda event_name, **_: calls.append(event_name)
    )
    statuses = [
        client.get("/api/v1/me", headers={"Authorization": "Bearer forged.token.value"}).status_code,
        client.get("/api/v1/me", headers=api_key("nmk_test_guess")).status_code,
        client.get("/api/v1/me", headers=api_key("nmk_live_1234567890abcdef")).status_code,
        client.get("/api/v1/me", headers={"Authorization": "Bearer another.forged.token"}).status_code,
    ]
    assert statuses == [401, 401, 401, 429]
    assert calls == []
    refused = client.get("/api/v1/me", headers=api_key("nmk_test_guess"))
    assert refused.headers["RateLimit-Policy"] == '"ip";q=3;w=60'
    assert_standard_fields_agree(refused, "ip", 60)


def test_requests_without_credentials_describe_the_ip_policy(strict_app):
    client = strict_app.test_client()
    anonymous = [client.get("/api/v1/me") for _ in range(4)]
    assert [response.status_code for response in anonymous] == [401, 401, 401, 429]
    remaining = [assert_standard_fields_agree(response, "ip", 60)["r"] for response in anonymous]
    assert remaining == [2, 1, 0, 0]


def test_login_failures_per_username_are_limited(client, make_user):
    account = make_user("alice")
    failures = [
        client.post("/api/v1/auth/login", json={"username": "ALICE", "password": f"wrong-{n}"}).status_code
        for n in range(11)
    ]
    assert failures == [401] * 10 + [429]
    blocked = client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password})
    assert_error(blocked, 429, "rate_limited")
    assert int(blocked.headers["Retry-After"]) >= 1
    # The limit breached is the 15-minute failure bucket: its window, not the minute of the login's IP limit.
    assert blocked.headers["RateLimit-Policy"] == '"login-failures";q=10;w=900'
    assert_standard_fields_agree(blocked, "login-failures", 900)


def test_successful_logins_do_not_count_as_failures(client, make_user):
    account = make_user("alice")
    for _ in range(12):
        ok = client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password})
        assert ok.status_code == 200


def test_login_attempts_per_ip_are_limited(client):
    statuses = [
        client.post("/api/v1/auth/login", json={"username": f"user{n}", "password": "guess"}).status_code
        for n in range(31)
    ]
    assert statuses == [401] * 30 + [429]
    blocked = client.post("/api/v1/auth/login", json={"username": "user31", "password": "guess"})
    assert blocked.headers["RateLimit-Policy"] == '"login-ip";q=30;w=60'
    assert_standard_fields_agree(blocked, "login-ip", 60)


def test_a_successful_login_describes_the_login_ip_policy(client, make_user):
    account = make_user("alice")
    ok = client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password})
    assert ok.status_code == 200
    assert ok.headers["RateLimit-Policy"] == '"login-ip";q=30;w=60'
    assert assert_standard_fields_agree(ok, "login-ip", 60)["r"] == 29


def test_when_dynamodb_fails_limits_fall_back_to_memory_and_warn(app, client, admin, monkeypatch, caplog):
    from botocore.exceptions import EndpointConnectionError

    storage = __import__("handlers.ratelimit", fromlist=["limiter"]).limiter.storage

    def unreachable(*_args, **_kwargs):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    monkeypatch.setattr(storage, "incr", unreachable)
    monkeypatch.setattr(storage, "lease", unreachable)  # the fixed window's leased permits
    monkeypatch.setattr(storage, "check", lambda: False)
    with caplog.at_level(logging.WARNING):
        responses = [client.get("/api/v1/me", headers=admin) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["199", "198", "197"]
    assert any("falling back to in-memory" in record.getMessage() for record in caplog.records)


def test_refresh_and_logout_count_against_the_tenant(client, make_user, login):
    tokens = login(make_user("alice"))
    me = client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
    refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
    logout = client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"]))

    remaining = [int(r.headers["X-RateLimit-Remaining"]) for r in (me, refreshed, logout)]
    assert [r.headers["X-RateLimit-Limit"] for r in (me, refreshed, logout)] == ["200"] * 3
    for response in (me, refreshed, logout):
        assert_standard_fields_agree(response, "tenant", 60)
    assert remaining == [remaining[0], remaining[0] - 1, remaining[0] - 2]
