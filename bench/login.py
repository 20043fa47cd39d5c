"""5. Login: one argon2id verification at OWASP's parameters, and nothing else expensive.

In a worker process on moto, with in-memory rate limits (so DynamoDB's latency is not what is
timed): one ``verify_password`` against a stored hash, and a whole ``POST /api/v1/auth/login``
through the test client, alternately. argon2's ``hash`` and ``verify`` are counted per login, and the
stored hash's parameters are read back, so the figure shows the work done, not only its time.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import time
from typing import Any

from bench.common import Figure, clean_env, interleaved, median, run_worker, section, spread

OWASP = "m=19456,t=2,p=1"
# "Nothing else expensive": the rest of a login (not the verification, not the user read) costs at
# most this share of the verification.
REST_SHARE = 0.25
PASSWORD = "correct horse battery staple"  # noqa: S105 - a benchmark user in moto


def run(args: argparse.Namespace) -> list[Figure]:
    section("5. Login: one argon2id verification at OWASP parameters")
    rounds = 5 if args.quick else 11
    env = clean_env(
        APP_ENV="test",
        JWT_SECRET_KEY=secrets.token_urlsafe(48),
        DYNAMODB_TABLE_PREFIX="bench-",
        RATELIMIT_STORAGE_URI="memory://",
    )
    result, _log = run_worker("bench.login", [str(rounds)], env)
    verify_ms, login_ms = median(result["verify"]) * 1000, median(result["login"]) * 1000
    dynamodb_ms = median(result["dynamodb"]) * 1000
    rest_ms = login_ms - dynamodb_ms - verify_ms
    print(f"   stored hash parameters: {result['parameters']} (OWASP: argon2id, {OWASP})")
    print(f"   {rounds} rounds, interleaved (median, IQR):")
    print(f"   one verify_password          {verify_ms:7.1f} ms  ({spread([v * 1000 for v in result['verify']])})")
    print(f"   POST /api/v1/auth/login      {login_ms:7.1f} ms  ({spread([v * 1000 for v in result['login']])})")
    print(f"     of which the user read     {dynamodb_ms:7.1f} ms  (one GetItem, emulated by moto in-process)")
    print(f"     and the rest of the login  {rest_ms:7.1f} ms  ({rest_ms / verify_ms:.0%} of the verification)")
    print(f"   argon2 work per login: {result['per_login']} (known user); {result['per_unknown']} (unknown user)")
    per_login, per_unknown = result["per_login"], result["per_unknown"]
    work_ok = per_login == {"verify": 1, "hash": 0} and per_unknown == {"verify": 1, "hash": 0}
    passed = work_ok and OWASP in result["parameters"] and "argon2id" in result["parameters"]
    passed = passed and rest_ms <= REST_SHARE * verify_ms
    return [
        Figure(
            "Login: argon2id verifications per login; login vs one verify",
            f"{per_login['verify']} verify, {per_login['hash']} hash; {login_ms:.0f} ms vs {verify_ms:.0f} ms",
            f"1 verify at {OWASP}; rest <= {REST_SHARE:.0%} of it",
            passed,
        )
    ]


# --- the worker process ------------------------------------------------------------------------


def _worker(rounds: int) -> dict[str, Any]:
    from moto import mock_aws

    with mock_aws():
        return _measure(rounds)


def _measure(rounds: int) -> dict[str, Any]:
    from argon2 import PasswordHasher

    import app as app_module
    from models.passwords import hash_password, verify_password
    from models.store.tables import create_tables

    application = app_module.app
    repos = application.extensions["nativemessage"]
    create_tables(repos.db)
    repos.tenants.create("acme")
    stored = hash_password(PASSWORD)
    repos.users.create("acme", "admin@acme", stored, "admin")
    client = application.test_client()

    counts = {"verify": 0, "hash": 0}
    for name in ("verify", "hash"):
        original = getattr(PasswordHasher, name)

        def counted(self: Any, *a: Any, _original: Any = original, _name: str = name, **k: Any) -> Any:
            counts[_name] += 1
            return _original(self, *a, **k)

        setattr(PasswordHasher, name, counted)

    def login(username: str = "admin@acme") -> Any:
        return client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})

    def work_of(action: Any) -> dict[str, int]:
        counts.update(verify=0, hash=0)
        action()
        return dict(counts)

    assert login().status_code == 200
    login("nobody@acme")  # the first unknown user makes the dummy hash, once per process
    per_login = work_of(lambda: _expect(login(), 200))
    per_unknown = work_of(lambda: _expect(login("nobody@acme"), 401))

    # Time inside DynamoDB calls (the user read), from botocore's first event of a call to its last:
    # moto emulates them in this process, slower than DynamoDB would answer; it is reported apart.
    in_dynamodb = {"started": 0.0, "total": 0.0}
    events = repos.db.client.meta.events
    events.register("provide-client-params.dynamodb", lambda **_: in_dynamodb.update(started=time.perf_counter()))
    events.register(
        "after-call.dynamodb",
        lambda **_: in_dynamodb.update(total=in_dynamodb["total"] + time.perf_counter() - in_dynamodb["started"]),
    )

    def timed(action: Any) -> float:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started

    dynamodb: list[float] = []

    def timed_login() -> float:
        in_dynamodb["total"] = 0.0
        seconds = timed(lambda: _expect(login(), 200))
        dynamodb.append(in_dynamodb["total"])
        return seconds

    samples = interleaved(
        {"verify": lambda: timed(lambda: verify_password(stored, PASSWORD)), "login": timed_login},
        rounds,
    )
    return {
        "parameters": stored.rsplit("$", 2)[0],
        "per_login": per_login,
        "per_unknown": per_unknown,
        "dynamodb": dynamodb,
        **samples,
    }


def _expect(response: Any, status: int) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        import json

        print(json.dumps(_worker(int(sys.argv[2]))))
