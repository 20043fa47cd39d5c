"""The limit holds across processes: two gunicorn workers share one DynamoDB count per tenant."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.integration.servers import check_cli, gunicorn_server, moto_server, service_env

pytestmark = pytest.mark.slow

FLOOD = 250
TIMEOUT = 15


@pytest.fixture(scope="module")
def dynamodb_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


def provision(env: dict[str, str]) -> dict[str, str]:
    """Tables, tenants flood (limit 200) and calm, an admin of each; their passwords."""
    check_cli(env, "db", "init")
    passwords = {}
    for tenant in ("flood", "calm"):
        check_cli(env, "tenants", "create", tenant)
        passwords[tenant] = secrets.token_urlsafe(18)
        check_cli(
            env, "users", "create", "--tenant", tenant, "--username", f"admin@{tenant}", "--role", "admin",
            "--password-stdin", stdin=passwords[tenant] + "\n",
        )  # fmt: skip
    return passwords


def flood(base_url: str, passwords: dict[str, str]) -> tuple[Counter, list[requests.Response], list[int]]:
    """250 concurrent requests of tenant flood (JWT and API key mixed), 25 of tenant calm meanwhile."""

    def login(tenant: str) -> str:
        response = requests.post(
            f"{base_url}/api/v1/auth/login",
            json={"username": f"admin@{tenant}", "password": passwords[tenant]},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    flood_token, calm_token = login("flood"), login("calm")
    # The key's creation is the flood tenant's first counted request of this window.
    created = requests.post(
        f"{base_url}/api/v1/api-keys", json={"name": "flood"}, headers={"Authorization": f"Bearer {flood_token}"},
        timeout=TIMEOUT,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    credentials = [{"Authorization": f"Bearer {flood_token}"}, {"X-API-Key": created.json()["key"]}]

    def flood_request(n: int) -> requests.Response:
        return requests.get(f"{base_url}/api/v1/me", headers=credentials[n % 2], timeout=TIMEOUT)

    def calm_request(_: int) -> int:
        return requests.get(
            f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {calm_token}"}, timeout=TIMEOUT
        ).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        flood_responses = pool.map(flood_request, range(FLOOD))
        calm_statuses = pool.map(calm_request, range(25))
        flood_responses, calm_statuses = list(flood_responses), list(calm_statuses)
    return Counter(r.status_code for r in flood_responses), flood_responses, calm_statuses


def test_two_processes_admit_exactly_the_tenants_limit(dynamodb_endpoint: str) -> None:
    env = service_env(dynamodb_endpoint)
    passwords = provision(env)
    with gunicorn_server(env, workers=2) as server:
        statuses, responses, calm = flood(server.base_url, passwords)
        workers_used = server.worker_pids()

    assert len(workers_used) == 2
    # 200 per minute: the key's creation plus 199 of the flood.
    assert statuses == Counter({200: 199, 429: FLOOD - 199})
    for response in responses:
        assert response.headers["X-RateLimit-Limit"] == "200"
        if response.status_code == 429:
            assert response.json()["error"]["code"] == "rate_limited"
            assert int(response.headers["Retry-After"]) >= 1
            assert response.headers["X-RateLimit-Remaining"] == "0"
    assert calm == [200] * 25
    print(f"shared DynamoDB storage, 2 workers: {dict(statuses)} of {FLOOD}; the other tenant: {len(calm)} x 200")


def test_in_memory_counting_would_admit_more(dynamodb_endpoint: str) -> None:
    # The same flood with each process counting for itself: what the shared storage prevents.
    env = service_env(dynamodb_endpoint, RATELIMIT_STORAGE_URI="memory://")
    passwords = provision(env)
    with gunicorn_server(env, workers=2) as server:
        statuses, _, _ = flood(server.base_url, passwords)

    print(f"memory:// with 2 workers admitted {statuses[200]} of {FLOOD} (DynamoDB storage: 199 + the key's creation)")
    assert statuses[200] > 199
