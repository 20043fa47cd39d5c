"""3. DynamoDB calls per request, with the default storage (the rate-limit counters in DynamoDB).

The app runs on moto in a worker process; every call its boto3 client makes is counted with
botocore's own event hook (``before-parameter-build.dynamodb``), as ``tests/conftest.py`` does. The
rate-limit storage shares that client, so its counter writes are counted too. Each figure is a
steady-state request unless it says otherwise (a tenant's limit is read at most once a minute per
process, a key's ``last_used_at`` written at most once a minute).
"""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import Any

from bench.common import Figure, clean_env, run_worker, section

WRITES = frozenset({"UpdateItem", "PutItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark user in moto


def run(args: argparse.Namespace) -> list[Figure]:
    section("3. DynamoDB calls per request (default DynamoDB storage, moto, botocore's event hook)")
    env = clean_env(APP_ENV="test", JWT_SECRET_KEY=secrets.token_urlsafe(48), DYNAMODB_TABLE_PREFIX="bench-")
    result, _log = run_worker("bench.dynamodb_calls", [], env)
    rows = []
    for case in result["cases"]:
        calls = case["calls"]
        writes = [call for call in calls if call.split(":")[0] in WRITES]
        print(f"   {case['label']:62s} status {case['status']}  {len(calls)} call(s), {len(writes)} write(s): {calls}")
        measured = len(writes) if case["count"] == "writes" else len(calls)
        if case.get("target") is not None:
            unit = "write" if case["count"] == "writes" else "call"
            rows.append(
                Figure(
                    f"DynamoDB: {case['label']}",
                    f"{measured} {unit}{'' if measured == 1 else 's'}",
                    f"{case['op']} {case['target']}",
                    measured <= case["target"] if case["op"] == "<=" else measured == case["target"],
                )
            )
    return rows


# --- the worker process ------------------------------------------------------------------------


def _worker() -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        return {"cases": _cases()}


def _cases() -> list[dict[str, Any]]:
    from app import create_app
    from models.passwords import hash_password
    from models.store.tables import create_tables

    # The default storage: RATELIMIT_STORAGE_URI unset means dynamodb://<prefix>rate_limits.
    application = create_app({"ratelimit_storage_uri": None})
    repos = application.extensions["nativemessage"]
    create_tables(repos.db)
    repos.tenants.create("acme")  # 200 requests a minute
    repos.tenants.create("tiny", rate_limit=3)
    for tenant in ("acme", "tiny"):
        repos.users.create(tenant, f"admin@{tenant}", hash_password(PASSWORD), "admin")
    client = application.test_client()

    calls: list[str] = []

    def record(event_name: str, params: dict[str, Any] | None = None, **_kwargs: Any) -> None:
        table = (params or {}).get("TableName", "")
        calls.append(f"{event_name.rsplit('.', 1)[-1]}:{table.removeprefix(repos.settings.table_prefix)}")

    repos.db.client.meta.events.register("before-parameter-build.dynamodb", record)
    cases: list[dict[str, Any]] = []

    def measure(label: str, send: Any, *, target: int | None = None, op: str = "=", count: str = "calls") -> Any:
        calls.clear()
        response = send()
        cases.append(
            {
                "label": label,
                "status": response.status_code,
                "calls": list(calls),
                "target": target,
                "op": op,
                "count": count,
            }
        )
        return response

    def login(tenant: str) -> dict[str, str]:
        response = measure(
            f"login (info; argon2 aside), tenant {tenant}",
            lambda: client.post("/api/v1/auth/login", json={"username": f"admin@{tenant}", "password": PASSWORD}),
        )
        return {"Authorization": f"Bearer {response.get_json()['access_token']}"}

    acme = login("acme")
    measure("JWT request, first of its tenant in this process (info)", lambda: client.get("/api/v1/me", headers=acme))
    measure(
        "JWT request (at most the counter's write, amortised by leases)",
        lambda: client.get("/api/v1/me", headers=acme),
        target=1,
        op="<=",
    )
    created = measure(
        "mint an API key (info)", lambda: client.post("/api/v1/api-keys", json={"name": "bench"}, headers=acme)
    )
    key = {"X-API-Key": created.get_json()["key"]}
    measure(
        "API-key request, the key's first use (info: writes last_used_at)",
        lambda: client.get("/api/v1/me", headers=key),
    )
    measure("API-key request", lambda: client.get("/api/v1/me", headers=key), target=2, op="<=")
    malformed = {"X-API-Key": key["X-API-Key"][:-1] + ("A" if key["X-API-Key"][-1] != "A" else "B")}
    measure("malformed API key (bad checksum)", lambda: client.get("/api/v1/me", headers=malformed), target=0)
    forged = _forged_token()
    measure("forged JWT (another secret) (info)", lambda: client.get("/api/v1/me", headers=forged))

    # Tenant tiny: 3 a minute. Its key's minting and first use count 2, one JWT request the 3rd;
    # the 4th is refused after DynamoDB's count; from then on the process knows the window is full.
    tiny = login("tiny")
    tiny_key = {"X-API-Key": client.post("/api/v1/api-keys", json={"name": "t"}, headers=tiny).get_json()["key"]}
    assert client.get("/api/v1/me", headers=tiny_key).status_code == 200
    assert client.get("/api/v1/me", headers=tiny).status_code == 200
    measure(
        "JWT request that fills the window: 429 from DynamoDB's count (info)",
        lambda: client.get("/api/v1/me", headers=tiny),
    )
    measure(
        "JWT request, window known full (429)",
        lambda: client.get("/api/v1/me", headers=tiny),
        target=0,
        count="writes",
    )
    measure(
        "API-key request, window known full (429)",
        lambda: client.get("/api/v1/me", headers=tiny_key),
        target=0,
        count="writes",
    )
    repos.db.client.meta.events.unregister("before-parameter-build.dynamodb", record)
    return cases


def _forged_token() -> dict[str, str]:
    import time

    import jwt

    now = int(time.time())
    claims = {"sub": "usr_x", "tid": "acme", "role": "admin", "usr": "x", "type": "access", "jti": "j", "iat": now}
    claims |= {"exp": now + 600, "iss": "https://api-message.nativehub.live", "aud": "nativemessage-api"}
    return {"Authorization": f"Bearer {jwt.encode(claims, secrets.token_urlsafe(48), algorithm='HS256')}"}


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        import json

        print(json.dumps(_worker()))
