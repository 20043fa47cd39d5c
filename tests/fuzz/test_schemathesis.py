"""Schema fuzzing: schemathesis against the OpenAPI document served by the app under gunicorn.

Real servers: moto's DynamoDB server, tables, tenants and admins made with the operator CLI, the app
under gunicorn with two workers. Every operation of ``/api/v1/openapi.json`` is fuzzed twice, with
schema-valid and schema-invalid data: once with an admin's access token (``Authorization: Bearer``) and
once with an API key (``X-API-Key``). Every response must:

- never be a 5xx (``not_a_server_error``);
- have a status code, content type, headers and body the document declares for that operation;
- when it is an error, be the envelope ``{"error": {"code", "message", "details"?}}``;
- carry what the README promises beyond the document: ``X-Request-Id`` on every response, a
  ``WWW-Authenticate: Bearer realm="nativemessage"`` challenge on every 401, ``Retry-After`` on 429/503.

And the app must refuse schema-invalid requests with a 4xx (``negative_data_rejection``) and answer a
method a path does not have with 405 and ``Allow`` (``unsupported_method``, ``allow_header_conformance``).

Bounded and reproducible: a fixed seed, derandomized generation, at most ``MAX_EXAMPLES`` generated
cases per operation in the fuzzing phase (plus schemathesis' deterministic example and coverage cases),
no example database on disk.

Random ids only ever find nothing (404), so half of the generated ids are real ones, made for the run
(a schemathesis dictionary): the success answers of ``/users/{user_id}``, ``/api-keys/{key_id}`` and
``/messages/{message_id}`` are checked too. Likewise half of the login usernames and passwords are
the run's admin's, so a 200 from ``/auth/login`` is checked, and half of the ``cursor`` query values
are real ``next_cursor``s of the run's users, keys and messages listings, so second pages are checked
(a cursor of another listing is a 400 by design).

Nothing is excluded. The operations that change credentials are given credentials chosen so that the
run cannot cut the branch it sits on:

- each run has a tenant of its own, so nothing one run does (revoking or rotating keys, changing
  users, whose ids schemathesis may reuse from earlier responses) reaches the other's credential;
- ``POST /auth/refresh`` gets the run's refresh token in the JWT run (an access token is only a 401);
- ``POST /auth/logout`` gets a refresh token of its own, from a second login, so revoking it (the first
  case that succeeds does) leaves the refresh token of ``/auth/refresh`` alone; later cases get 401;
- ``POST /auth/logout-all`` gets the access token of another user of the run's tenant (a member), so
  signing out everywhere does not end the admin's refresh token that ``/auth/refresh`` uses;
- ``POST /me/password`` gets the access token of a user of its own, half of its current passwords
  are that user's and half of its new ones pass the policy: a change succeeds (and ends only that
  user's refresh tokens), later ones meet the changed password (401); ``POST /users/{user_id}/password``
  resets the member's password, whose access token (all that ``/auth/logout-all`` needs) lives on;
- ``DELETE /api-keys/{key_id}`` is given a different real key than ``GET`` and ``rotate``, so revoking
  it does not turn every rotation into a 409;
- ``POST /me/mfa/totp/confirm`` gets the access token of a user of its own whose enrolment the run
  started, and half of its codes are that secret's current one, computed as the case is sent (the
  first turns TOTP on, later confirmations are 400s); ``/disable`` gets a user of its own with TOTP
  on, half of its codes that user's recovery codes, sent with that user's password (the first
  success turns it off, later cases are 409s); ``POST /me/mfa/totp`` enrols the admin, whose
  enrolment is never confirmed, so the admin's logins never need a code;
- an admin's own account cannot be changed through ``PATCH /users/{user_id}`` (409), and an API key
  can manage neither keys nor users (403), so neither run can lock itself out.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyotp
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.integration.servers import GunicornServer, check_cli, gunicorn_server, moto_server, service_env

pytestmark = pytest.mark.slow

WORKERS = 2
TIMEOUT = 10
OPENAPI_PATH = "/api/v1/openapi.json"
# Generated cases per operation and run in schemathesis' fuzzing phase: 20 operations x 2 runs take
# about a minute and a quarter on two cores (some 950 requests a run).
MAX_EXAMPLES = 50
SEED = 20240808
# How often a generated id (or login) is replaced by a real one of the run.
REAL_VALUE_PROBABILITY = 0.5
# One tenant and admin per run (tenant ids: lowercase letters, digits, hyphens).
TENANTS = {"jwt": "fuzz-jwt", "api_key": "fuzz-api-key"}
ADMIN = "fuzz-admin"
# Half of the ``code`` fields are this, replaced when sent by a code that works then (a TOTP code
# must be current when it arrives): /confirm's user's current code, or /disable's user's next
# recovery code.
WORKING_CODE = "the-working-code"
# Generated strings rarely pass the password policy: half of the new passwords are this one.
NEW_PASSWORD = "a new passphrase the policy accepts"


@dataclass
class Stack:
    """The served app, each run's admin password, and what the fuzzing saw."""

    server: GunicornServer
    passwords: dict[str, str]
    # (method, path) -> the operation's security requirements, from the served document
    security: dict[tuple[str, str], list[dict[str, list[str]]]]
    # (run, "METHOD path") -> status code -> count
    seen: dict[tuple[str, str], Counter[int]] = field(default_factory=lambda: defaultdict(Counter))

    def url(self, path: str) -> str:
        return self.server.url(path)

    def post(self, path: str, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = requests.post(self.url(path), headers=headers, timeout=TIMEOUT, **kwargs)
        assert response.status_code in (200, 201), f"POST {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Moto, tables, a tenant per run without a practical rate limit, an admin in each, gunicorn."""
    passwords = {run: secrets.token_urlsafe(18) for run in TENANTS}
    with moto_server() as endpoint:
        # Hundreds of requests a minute, many without valid credentials or logging in with random
        # usernames: the per-IP and per-username limits must not turn the run into 429s.
        env = service_env(
            endpoint,
            UNAUTHENTICATED_RATE_LIMIT="100000/minute",
            LOGIN_IP_RATE_LIMIT="100000/minute",
            LOGIN_FAILURE_RATE_LIMIT="100000/minute",
            # Wrong current passwords of /me/password count as failed logins of its user: no slowdown.
            LOGIN_USERNAME_FAILURE_CEILING="100000 per 15 minutes",
        )
        check_cli(env, "db", "init")
        for run, tenant in TENANTS.items():
            check_cli(env, "tenants", "create", tenant)
            check_cli(env, "tenants", "set-limit", tenant, "100000")
            check_cli(env, "users", "create", "--tenant", tenant, "--username", f"{ADMIN}@{tenant}", "--role",
                      "admin", "--password-stdin", stdin=passwords[run] + "\n")  # fmt: skip
        with gunicorn_server(env, workers=WORKERS) as server:
            document = requests.get(server.url(OPENAPI_PATH), timeout=TIMEOUT).json()
            security = {
                (method.upper(), path): operation.get("security", [])
                for path, item in document["paths"].items()
                for method, operation in item.items()
                if isinstance(operation, dict)
            }
            yield Stack(server, passwords, security)


@dataclass
class Run:
    """One fuzzing run: its credential, its tokens and the real resources of its tenant."""

    name: str
    username: str
    password: str
    credential: dict[str, str]
    refresh_token: str
    logout_refresh_token: str
    member_access_token: str
    password_changer: tuple[str, str]  # the access token and password of /me/password's user
    mfa_confirmer: tuple[str, str]  # the access token and TOTP secret of /me/mfa/totp/confirm's user
    mfa_disabler: tuple[str, str, list[str]]  # /me/mfa/totp/disable's user: token, password, recovery codes
    user_id: str
    key_id: str
    revocable_key_id: str
    message_id: str
    # A real next_cursor of each paged listing (users, keys, messages): a valid one reaches page two.
    cursors: list[str]

    def headers_for(self, stack: Stack, method: str, path: str) -> dict[str, str]:
        if not stack.security.get((method, path)):
            return {}  # login and health take no credential
        if self.name == "jwt" and path == "/api/v1/auth/refresh":
            return {"Authorization": f"Bearer {self.refresh_token}"}
        if self.name == "jwt" and path == "/api/v1/auth/logout":
            return {"Authorization": f"Bearer {self.logout_refresh_token}"}
        if self.name == "jwt" and path == "/api/v1/auth/logout-all":
            return {"Authorization": f"Bearer {self.member_access_token}"}
        if self.name == "jwt" and path == "/api/v1/me/password":
            return {"Authorization": f"Bearer {self.password_changer[0]}"}
        if self.name == "jwt" and path == "/api/v1/me/mfa/totp/confirm":
            return {"Authorization": f"Bearer {self.mfa_confirmer[0]}"}
        if self.name == "jwt" and path == "/api/v1/me/mfa/totp/disable":
            return {"Authorization": f"Bearer {self.mfa_disabler[0]}"}
        return self.credential


@pytest.fixture(params=list(TENANTS))
def run(request: pytest.FixtureRequest, stack: Stack) -> Run:
    """Log the run's admin in and make the real user, keys and message its fuzzing reuses."""
    tenant, password = TENANTS[request.param], stack.passwords[request.param]
    username = f"{ADMIN}@{tenant}"
    tokens = stack.post("/api/v1/auth/login", json={"username": username, "password": password})
    access = tokens["access_token"]
    member_password = secrets.token_urlsafe(18)
    user = stack.post(
        "/api/v1/users",
        access,
        json={"username": f"fuzz-member@{tenant}", "password": member_password, "role": "member"},
    )
    member_access = stack.post(
        "/api/v1/auth/login", json={"username": f"fuzz-member@{tenant}", "password": member_password}
    )["access_token"]
    changer_password = secrets.token_urlsafe(18)
    changer = {"username": f"fuzz-password@{tenant}", "password": changer_password}
    stack.post("/api/v1/users", access, json={**changer, "role": "viewer"})
    changer_access = stack.post("/api/v1/auth/login", json=changer)["access_token"]
    confirmer_access = new_user(stack, access, f"fuzz-mfa-confirm@{tenant}", secrets.token_urlsafe(18))
    confirm_secret = stack.post("/api/v1/me/mfa/totp", confirmer_access)["secret"]
    disabler_password = secrets.token_urlsafe(18)
    disabler_access = new_user(stack, access, f"fuzz-mfa-disable@{tenant}", disabler_password)
    disable_secret = stack.post("/api/v1/me/mfa/totp", disabler_access)["secret"]
    recovery_codes = stack.post(
        "/api/v1/me/mfa/totp/confirm", disabler_access, json={"code": pyotp.TOTP(disable_secret).now()}
    )["recovery_codes"]
    key, revocable_key = (
        stack.post("/api/v1/api-keys", access, json={"name": name}) for name in ("target", "revocable")
    )
    message = stack.post("/api/v1/messages", access, json={"to": "+14155550123", "body": "fuzz"})
    stack.post("/api/v1/messages", access, json={"to": "+14155550123", "body": "fuzz 2"})  # a page two
    cursors = [
        requests.get(stack.url(f"/api/v1/{listing}?limit=1"), headers={"Authorization": f"Bearer {access}"},
                     timeout=TIMEOUT).json()["next_cursor"]
        for listing in ("users", "api-keys", "messages")
    ]  # fmt: skip
    if request.param == "jwt":
        credential = {"Authorization": f"Bearer {access}"}
    else:
        credential = {"X-API-Key": stack.post("/api/v1/api-keys", access, json={"name": "fuzzing"})["key"]}
    return Run(
        name=request.param,
        username=username,
        password=password,
        credential=credential,
        refresh_token=tokens["refresh_token"],
        logout_refresh_token=stack.post("/api/v1/auth/login", json={"username": username, "password": password})[
            "refresh_token"
        ],
        member_access_token=member_access,
        password_changer=(changer_access, changer_password),
        mfa_confirmer=(confirmer_access, confirm_secret),
        mfa_disabler=(disabler_access, disabler_password, recovery_codes),
        user_id=user["id"],
        key_id=key["id"],
        revocable_key_id=revocable_key["id"],
        message_id=message["id"],
        cursors=cursors,
    )


def working_code(run: Run, path: str) -> str:
    """A code that works now for the operation's user (each recovery code is tried once)."""
    if path == "/api/v1/me/mfa/totp/confirm":
        return pyotp.TOTP(run.mfa_confirmer[1]).now()
    return run.mfa_disabler[2].pop() if run.mfa_disabler[2] else WORKING_CODE


def new_user(stack: Stack, admin_access: str, username: str, password: str) -> str:
    """Create a viewer of the admin's tenant and log it in: its access token."""
    stack.post("/api/v1/users", admin_access, json={"username": username, "password": password, "role": "viewer"})
    return str(stack.post("/api/v1/auth/login", json={"username": username, "password": password})["access_token"])


def real(dictionary: str) -> dict[str, Any]:
    return {"dictionary": dictionary, "probability": REAL_VALUE_PROBABILITY}


@pytest.fixture
def fuzz_schema(stack: Stack, run: Run) -> schemathesis.BaseSchema:
    """The live server's document, with the run's generation settings and real values."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "dictionaries": {
                "user-id": {"values": [run.user_id]},
                "key-id": {"values": [run.key_id]},
                "revocable-key-id": {"values": [run.revocable_key_id]},
                "message-id": {"values": [run.message_id]},
                "cursor": {"values": run.cursors},
                "username": {"values": [run.username]},
                "password": {"values": [run.password]},
                "current-password": {"values": [run.password_changer[1]]},
                "new-password": {"values": [NEW_PASSWORD]},
                "mfa-code": {"values": [WORKING_CODE]},
            },
            "parameters": {
                "path.user_id": real("user-id"),
                "path.key_id": real("key-id"),
                "path.message_id": real("message-id"),
                "query.cursor": real("cursor"),
                "body.username": real("username"),
                "body.password": real("password"),
                "body.current_password": real("current-password"),
                "body.new_password": real("new-password"),
                "body.code": real("mfa-code"),
            },
            "operations": [
                {
                    "include-method": "DELETE",
                    "include-path": "/api/v1/api-keys/{key_id}",
                    "parameters": {"path.key_id": real("revocable-key-id")},
                },
            ],
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # The run's credential goes with every case; invented ones would collide with it
                # (two credentials are a 400) and hide the operation behind that answer.
                "with-security-parameters": False,
            },
            # The document declares no links for stateful testing.
            "phases": {"stateful": {"enabled": False}},
            "request-timeout": TIMEOUT,
        }
    )
    return schemathesis.openapi.from_url(stack.url(OPENAPI_PATH), config=config)


def error_envelope(ctx: Any, response: Any, case: Any) -> None:
    """Every error answer is the one JSON envelope, whatever produced it."""
    del ctx
    if response.status_code < 400:
        return
    label = f"{case.method} {case.formatted_path} -> {response.status_code}"
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), f"{label}: error with Content-Type {content_type!r}"
    body = json.loads(response.content)
    assert isinstance(body, dict) and set(body) == {"error"}, f"{label}: not the envelope: {body!r}"
    error = body["error"]
    assert isinstance(error, dict), f"{label}: error is not an object: {body!r}"
    assert isinstance(error.get("code"), str) and error["code"], f"{label}: no error code: {body!r}"
    assert isinstance(error.get("message"), str) and error["message"], f"{label}: no error message: {body!r}"
    assert set(error) <= {"code", "message", "details"}, f"{label}: unexpected error fields: {body!r}"


def promised_headers(ctx: Any, response: Any, case: Any) -> None:
    """The README's headers, which the document does not declare."""
    del ctx
    label = f"{case.method} {case.formatted_path} -> {response.status_code}"
    assert response.headers.get("x-request-id"), f"{label}: no X-Request-Id"
    if response.status_code == 401:
        challenge = response.headers.get("www-authenticate", [""])[0]
        assert challenge.startswith('Bearer realm="nativemessage"'), f"{label}: WWW-Authenticate {challenge!r}"
    if response.status_code in (429, 503):
        assert response.headers.get("retry-after"), f"{label}: no Retry-After"


CHECKS = [
    # What the document promises about each response.
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    error_envelope,
    promised_headers,
    # What it promises about requests: schema-invalid ones are refused (4xx), and a method the path
    # does not have is a 405 with Allow (the README's promise), as OPTIONS' Allow lists.
    negative_data_rejection,
    unsupported_method,
    allow_header_conformance,
    # Left out: positive_data_acceptance, which expects every schema-valid request to succeed; rules
    # no JSON schema states refuse some by design (400 for a cursor that is not ours, an expires_at
    # in the past, a PATCH with nothing to change). ignored_auth and the other stateful ones belong
    # to the authorization suites.
]

schema = schemathesis.pytest.from_fixture("fuzz_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32.5's from_fixture reads and rewrites ``item._nodeid``, which pytest 9 replaced
    # with ``_id`` (AttributeError otherwise); pytest itself never reads this copy.
    request.node._nodeid = request.node.nodeid


@schema.parametrize()
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case, stack: Stack, run: Run) -> None:
    method = case.operation.method.upper()
    if isinstance(case.body, dict) and case.body.get("code") == WORKING_CODE:
        case.body["code"] = working_code(run, case.operation.path)
        if "password" in case.body:  # /disable: with the working code, its user's password
            case.body["password"] = run.mfa_disabler[1]
    response = case.call_and_validate(
        headers=run.headers_for(stack, method, case.operation.path), checks=CHECKS, timeout=TIMEOUT
    )
    # Keyed by the method sent: the coverage phase also sends methods the path does not have (405).
    stack.seen[(run.name, f"{case.method.upper()} {case.operation.path}")][response.status_code] += 1


# Success answers each run must have reached, so that a run that degenerates (every case refused for
# its credential, or ids never found) fails instead of passing on error answers alone.
EVERY_OPERATION = "*"
MUST_SUCCEED = {
    "jwt": EVERY_OPERATION,
    "api_key": {
        "POST /api/v1/auth/login",
        "GET /api/v1/health",
        "GET /api/v1/me",
        "POST /api/v1/messages",
        "GET /api/v1/messages",
        "GET /api/v1/messages/{message_id}",
    },
}


def test_both_runs_covered_every_operation_and_its_success_answers(
    stack: Stack, request: pytest.FixtureRequest
) -> None:
    runs = {name for name, _ in stack.seen}
    if not runs:
        pytest.skip("the fuzzing runs were not selected")
    operations = sorted(f"{method} {path}" for method, path in stack.security)
    lines, missing = [], []
    for name in sorted(runs):
        statuses = {op: stack.seen.get((name, op), Counter()) for op in operations}
        must = operations if MUST_SUCCEED[name] == EVERY_OPERATION else sorted(MUST_SUCCEED[name])
        missing += [f"{name}: {op} was never called" for op, seen in statuses.items() if not seen]
        missing += [
            f"{name}: {op} never answered 2xx ({dict(statuses[op])})"
            for op in must
            if not any(200 <= status < 300 for status in statuses[op])
        ]
        other_methods = sum(sum(seen.values()) for (run, op), seen in stack.seen.items() if run == name) - sum(
            sum(seen.values()) for seen in statuses.values()
        )
        lines.append(
            f"{name} run: {sum(sum(seen.values()) for seen in statuses.values())} requests to "
            f"{len(operations)} operations, {other_methods} more with methods their paths do not have"
        )
        lines += [f"  {op}: {dict(sorted(seen.items()))}" for op, seen in statuses.items()]
    terminal = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if terminal is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            terminal.write_line("\nschemathesis " + schemathesis.__version__ + ", " + "\n".join(lines))
    assert not missing, "\n".join(missing)
