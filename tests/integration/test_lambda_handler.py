"""Zappa's real handler serving API Gateway REST (v1) and HTTP API (v2) events against moto's server."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.lambda_events import http_v2, rest_v1
from tests.integration.lambda_runner import (
    PASSWORD,
    LambdaInstance,
    header,
    lambda_env,
    lambda_instance,
    response_json,
    zappa_task_dir,
)
from tests.integration.servers import ROOT, moto_server

pytestmark = pytest.mark.slow

EVENT_KINDS = ["rest_v1", "http_v2", "http_v2_custom_domain", "function_url"]


def event(kind: str, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    """An event of the given kind; kwargs: headers, body, source_ip, query (dict for v1, str for v2)."""
    query = kwargs.pop("query", None)
    if kind == "rest_v1":
        return rest_v1(method, path, query=query, **kwargs)
    query_string = "&".join(f"{k}={v}" for k, v in (query or {}).items())
    if kind == "http_v2":
        return http_v2(method, path, query=query_string, **kwargs)
    if kind == "http_v2_custom_domain":
        return http_v2(method, path, query=query_string, with_stage_in_path=False, **kwargs)
    return http_v2(method, path, query=query_string, stage=None, **kwargs)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def instance(
    endpoint: str, provisioned: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaInstance]:
    task = zappa_task_dir(tmp_path_factory.mktemp("task"))
    with lambda_instance(task, lambda_env(endpoint)) as running:
        yield running


def login(instance: LambdaInstance, kind: str, tenant: str = "acme") -> str:
    response = instance.invoke(
        event(kind, "POST", "/api/v1/auth/login", body={"username": f"admin@{tenant}", "password": PASSWORD})
    )
    assert response["statusCode"] == 200, response
    assert header(response, "Cache-Control") == "no-store"
    return response_json(response)["access_token"]


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_health_login_me_and_404(instance: LambdaInstance, kind: str) -> None:
    health = instance.invoke(event(kind, "GET", "/api/v1/health"))
    assert health["statusCode"] == 200 and response_json(health) == {"status": "ok"}

    token = login(instance, kind)
    me = instance.invoke(event(kind, "GET", "/api/v1/me", headers={"Authorization": f"Bearer {token}"}))
    assert me["statusCode"] == 200
    assert response_json(me)["username"] == "admin@acme" and response_json(me)["auth"] == "jwt"
    assert header(me, "X-RateLimit-Limit") == "200"

    missing = instance.invoke(event(kind, "GET", "/api/v1/no-such-thing"))
    assert missing["statusCode"] == 404
    assert response_json(missing)["error"]["code"] == "not_found"
    assert header(missing, "Content-Type") == "application/json"


@pytest.mark.parametrize("kind", ["rest_v1", "http_v2"])
def test_api_key_request_and_unicode_json(instance: LambdaInstance, kind: str) -> None:
    token = login(instance, kind)
    auth = {"Authorization": f"Bearer {token}"}
    created = instance.invoke(event(kind, "POST", "/api/v1/api-keys", headers=auth, body={"name": "lambda"}))
    assert created["statusCode"] == 201, created
    key = {"X-API-Key": response_json(created)["key"]}

    me = instance.invoke(event(kind, "GET", "/api/v1/me", headers=key))
    assert me["statusCode"] == 200 and response_json(me)["auth"] == "api_key"

    text = "Grüße 👋 你好 — ok"
    sent = instance.invoke(
        event(kind, "POST", "/api/v1/messages", headers=key, body={"to": "+14155550123", "body": text})
    )
    assert sent["statusCode"] == 201, sent
    assert response_json(sent)["body"] == text
    # The stage is part of the URL the client called, so links carry it (v1 and v2 via the stage path).
    assert header(sent, "Location").startswith("/production/api/v1/messages/msg_")

    page = instance.invoke(event(kind, "GET", "/api/v1/messages", headers=key, query={"limit": "1"}))
    assert page["statusCode"] == 200 and len(response_json(page)["items"]) == 1


@pytest.mark.parametrize("kind", ["rest_v1", "http_v2"])
def test_over_the_limit_is_a_429_with_its_headers(instance: LambdaInstance, kind: str) -> None:
    token = login(instance, kind, tenant="tiny")
    auth = {"Authorization": f"Bearer {token}"}
    statuses, last = [], None
    for _ in range(3):
        last = instance.invoke(event(kind, "GET", "/api/v1/me", headers=auth))
        statuses.append(last["statusCode"])
    assert statuses[-1] == 429 and statuses.count(429) >= 1
    assert response_json(last)["error"]["code"] == "rate_limited"
    assert header(last, "X-RateLimit-Limit") == "2" and header(last, "X-RateLimit-Remaining") == "0"
    assert int(header(last, "Retry-After")) >= 1 and int(header(last, "X-RateLimit-Reset")) > 0


@pytest.mark.parametrize("kind", ["rest_v1", "http_v2"])
def test_the_ip_for_limits_comes_from_the_event_not_from_headers(instance: LambdaInstance, kind: str) -> None:
    # 60 unauthenticated requests per minute per IP: one source address, a new forged X-Forwarded-For each time.
    source = f"198.51.100.{1 if kind == 'rest_v1' else 2}"
    statuses = [
        instance.invoke(event(kind, "GET", "/api/v1/me", source_ip=source, headers={"X-Forwarded-For": f"10.9.8.{n}"}))[
            "statusCode"
        ]
        for n in range(61)
    ]
    assert statuses == [401] * 60 + [429]
    other = instance.invoke(event(kind, "GET", "/api/v1/me", source_ip="198.51.100.99"))
    assert other["statusCode"] == 401


def test_a_handler_process_reads_the_ssm_secret_and_needs_no_local_secret(instance: LambdaInstance) -> None:
    assert "JWT_SECRET_KEY" not in lambda_env("http://unused")
    assert login(instance, "rest_v1")
    assert os.environ.get("APP_ENV") == "test"  # the test process itself is untouched by Zappa's settings


@pytest.mark.parametrize("kind", EVENT_KINDS)
def test_a_secret_in_the_query_string_never_reaches_the_log(instance: LambdaInstance, kind: str) -> None:
    # Clients put keys in URLs by mistake; Zappa's access line (and ours) keep the path only.
    secret = f"nmk_test_query{kind.replace('_', '')}SECRET"
    referer = f"https://app.example.com/settings?token={secret}REF"  # a page that had it in its URL
    response = instance.invoke(
        event(kind, "GET", "/api/v1/messages", query={"api_key": secret, "limit": "5"}, headers={"Referer": referer})
    )
    assert response["statusCode"] == 401
    log = instance.log()
    assert "GET /api/v1/messages" in log and "https://app.example.com/settings" in log
    assert secret not in log and "api_key=" not in log


def test_the_function_url_stage_serves_the_flow_without_api_gateway(
    endpoint: str, provisioned: dict[str, str], tmp_path: Path
) -> None:
    # The cheaper front door: a Lambda function URL (HTTP API v2 events, no stage in the path).
    settings = json.loads((ROOT / "zappa_settings.json").read_text())["production-url"]
    assert settings["extends"] == "production" and settings["function_url_enabled"] is True
    assert settings["apigateway_enabled"] is False
    assert settings["function_url_config"]["cors"]["allowedOrigins"] == []  # no CORS, as behind API Gateway
    task = zappa_task_dir(tmp_path / "task", stage="production-url")
    with lambda_instance(task, lambda_env(endpoint)) as running:
        login = running.invoke(
            event("function_url", "POST", "/api/v1/auth/login", body={"username": "admin@acme", "password": PASSWORD})
        )
        assert login["statusCode"] == 200, running.log()
        me = running.invoke(
            event(
                "function_url",
                "GET",
                "/api/v1/me",
                headers={"Authorization": f"Bearer {response_json(login)['access_token']}"},
            )
        )
        assert me["statusCode"] == 200 and response_json(me)["username"] == "admin@acme"
