"""The limiter's in-memory fallback: a body it cannot parse does not switch to it; a failing store does, and serves."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import EndpointConnectionError


def set_limit(app, tenant: str, limit: int) -> None:
    assert app.test_cli_runner().invoke(args=["tenants", "set-limit", tenant, str(limit)]).exit_code == 0
    app.extensions["nativemessage"].tenant_cache.clear()


def test_a_body_the_limiter_cannot_parse_does_not_switch_counting_to_memory(app, client, admin, dynamodb_calls):
    set_limit(app, "acme", 3)
    statuses = [client.get("/api/v1/me", headers=admin).status_code for _ in range(2)]
    huge = client.post("/api/v1/auth/login", data=b'{"username": "' + b"a" * (2 * 1024 * 1024) + b'"}',
                       content_type="application/json")  # fmt: skip
    deep = client.post("/api/v1/auth/login", data="[" * 100_000 + "]" * 100_000, content_type="application/json")
    dynamodb_calls.clear()
    statuses += [client.get("/api/v1/me", headers=admin).status_code for _ in range(2)]

    assert huge.status_code == 413 and deep.status_code == 400
    assert statuses == [200, 200, 200, 429]
    assert "UpdateItem:rate_limits" in dynamodb_calls  # still counted in DynamoDB, not in memory


def test_concurrent_requests_while_the_counter_store_fails_are_served(app, admin, monkeypatch):
    from handlers.ratelimit import limiter

    def unreachable(*_args, **_kwargs):
        time.sleep(0.05)  # keep requests in flight together
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")

    monkeypatch.setattr(limiter.storage, "incr", unreachable)
    monkeypatch.setattr(limiter.storage, "check", lambda: False)

    def call(_: int) -> int:
        return app.test_client().get("/api/v1/me", headers=admin).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(call, range(8)))
    assert statuses == [200] * 8
