"""The real service the client's tests run against, and what they observe of it.

The stack is the integration tests' own (tests/integration/servers.py): moto's DynamoDB server, the
operator CLI, gunicorn; here with 5-second access tokens, and DynamoDB reached through a
``FaultProxy`` so that a test can cut it. Every tenant has its own rate-limit window, so tests do not
spend each other's budget.

gunicorn runs one worker: two would each lease part of a tenant's 5 permits (models/store/
limits_leasing.py), and a window may then refuse a request while a permit sits unused in the other
worker, so a backoff test would wait one window or two by chance. The service's behaviour across
workers is tests/integration's business; here the client's waits must be predictable.

Observation is twofold: a ``Recorder`` (httpx event hooks, passed to the client) notes each attempt
the client makes and stamps it with an ``X-Request-Id``; gunicorn's access log says what the server
answered to each of those ids.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import boto3
import httpx
from fault_proxy import FaultProxy, fault_proxy

from tests.integration.servers import GunicornServer, check_cli, gunicorn_server, moto_server, service_env

ACCESS_TOKEN_TTL = 5
PASSWORD = secrets.token_urlsafe(18)
# name -> requests per minute. "tiny" tenants have the limit of 5.
TENANTS = {"acme": 1000, "pages": 1000, "apages": 1000, "tiny": 5, "atiny": 5}
# gunicorn's access line (servers.ACCESS_LOG_FORMAT): pid, X-Request-Id, status, request line.
ACCESS_LINE = re.compile(r'^<?\d+>? (?P<request_id>\S+) (?P<status>\d{3}) "(?P<method>[A-Z]+) (?P<target>\S+) ')


@dataclass(frozen=True)
class ServerLine:
    """One request as gunicorn logged it."""

    request_id: str
    status: int
    method: str
    path: str


@dataclass
class Stack:
    """The running service, its DynamoDB proxy, and the admins of its tenants."""

    server: GunicornServer
    dynamodb: FaultProxy
    env: dict[str, str]
    dynamodb_endpoint: str
    password: str = PASSWORD

    @property
    def url(self) -> str:
        return self.server.base_url

    @property
    def server_port(self) -> int:
        return urlsplit(self.server.base_url).port or 80

    @staticmethod
    def admin(tenant: str) -> str:
        return f"admin@{tenant}"

    def stored_messages(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's messages as DynamoDB holds them (read directly: no request spends the tenant's limit)."""
        dynamodb = boto3.client("dynamodb", endpoint_url=self.dynamodb_endpoint, region_name="us-east-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
        pages = dynamodb.get_paginator("query").paginate(
            TableName=f"{self.env['DYNAMODB_TABLE_PREFIX']}messages",
            KeyConditionExpression="tenant_id = :tenant",
            ExpressionAttributeValues={":tenant": {"S": tenant}},
        )
        return [
            {name: value["S"] for name, value in item.items() if "S" in value}
            for page in pages
            for item in page["Items"]
        ]

    def server_lines(self, tag: str, expected: int | None = None, timeout: float = 5) -> list[ServerLine]:
        """The access-log lines of requests whose X-Request-Id starts with ``tag`` (waiting for ``expected``)."""
        deadline = time.monotonic() + timeout
        while True:
            lines = []
            for raw in self.server.access_log_path.read_text(errors="replace").splitlines():
                match = ACCESS_LINE.match(raw)
                if match and match["request_id"].startswith(f"{tag}-"):
                    path = urlsplit(match["target"]).path
                    lines.append(ServerLine(match["request_id"], int(match["status"]), match["method"], path))
            if expected is None or len(lines) >= expected or time.monotonic() > deadline:
                return lines
            time.sleep(0.05)


@contextlib.contextmanager
def client_stack() -> Iterator[Stack]:
    """Start the stack: tables, the tenants of TENANTS each with an admin, gunicorn; stop it after."""
    with moto_server() as endpoint, fault_proxy(urlsplit(endpoint).port or 80) as dynamodb:
        env = service_env(
            dynamodb.url,
            ACCESS_TOKEN_TTL_SECONDS=str(ACCESS_TOKEN_TTL),
            # Every test client shares 127.0.0.1: the per-IP limits would make the tests depend on each other.
            LOGIN_IP_RATE_LIMIT="1000/minute",
            UNAUTHENTICATED_RATE_LIMIT="1000/minute",
        )
        check_cli(env, "db", "init")

        def provision(tenant: str) -> None:
            check_cli(env, "tenants", "create", tenant, "--rate-limit", str(TENANTS[tenant]))
            check_cli(env, "users", "create", "--tenant", tenant, "--username", Stack.admin(tenant),
                      "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")  # fmt: skip

        with ThreadPoolExecutor(max_workers=3) as pool:
            list(pool.map(provision, TENANTS))
        with gunicorn_server(env, workers=1) as server:
            yield Stack(server, dynamodb, env, endpoint)


@dataclass
class Attempt:
    """One request the client sent: when, what, with which token or key, and what came back."""

    request_id: str
    sent: float  # time.monotonic()
    sent_wall: float  # time.time(), comparable with a token's exp on this machine
    method: str
    path: str
    query: dict[str, str]
    idempotency_key: str | None
    bearer: str | None
    status: int | None = None
    answered: float | None = None
    retry_after: float | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    response: httpx.Response | None = None

    @property
    def body(self) -> Any:
        """The answer's JSON (read by the client by the time a test looks)."""
        assert self.response is not None
        return self.response.json()


@dataclass
class Recorder:
    """httpx event hooks that note every attempt and give it an X-Request-Id starting with ``tag``."""

    tag: str = field(default_factory=lambda: f"t{secrets.token_hex(4)}")
    attempts: list[Attempt] = field(default_factory=list)
    _by_request: dict[int, Attempt] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def hooks(self) -> dict[str, list[Any]]:
        """Event hooks for ``Client(event_hooks=...)``."""
        return {"request": [self.on_request], "response": [self.on_response]}

    def async_hooks(self) -> dict[str, list[Any]]:
        """Event hooks for ``AsyncClient(event_hooks=...)``."""

        async def on_request(request: httpx.Request) -> None:
            self.on_request(request)

        async def on_response(response: httpx.Response) -> None:
            self.on_response(response)

        return {"request": [on_request], "response": [on_response]}

    def on_request(self, request: httpx.Request) -> None:
        with self._lock:
            request_id = f"{self.tag}-{len(self.attempts)}"
            authorization = request.headers.get("Authorization", "")
            attempt = Attempt(
                request_id, time.monotonic(), time.time(), request.method, request.url.path,
                dict(request.url.params), request.headers.get("Idempotency-Key"),
                authorization.removeprefix("Bearer ") or None,
            )  # fmt: skip
            self.attempts.append(attempt)
            self._by_request[id(request)] = attempt
        request.headers["X-Request-Id"] = request_id

    def on_response(self, response: httpx.Response) -> None:
        with self._lock:
            attempt = self._by_request.pop(id(response.request))
        attempt.status = response.status_code
        attempt.answered = time.monotonic()
        attempt.headers = response.headers
        attempt.response = response
        if "Retry-After" in response.headers:
            attempt.retry_after = float(response.headers["Retry-After"])

    def to(self, method: str, path: str) -> list[Attempt]:
        """The attempts of ``method`` on paths ending with ``path``, in the order sent."""
        return [a for a in self.attempts if a.method == method and a.path.endswith(path)]
