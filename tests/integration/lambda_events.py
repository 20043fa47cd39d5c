"""API Gateway events as AWS sends them: REST API (payload 1.0) and HTTP API / function URL (2.0)."""

from __future__ import annotations

import json
from typing import Any

API_HOST = "abc123.execute-api.us-east-1.amazonaws.com"
STAGE = "production"


def rest_v1(
    method: str, path: str, *, source_ip: str = "203.0.113.10", headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None, body: Any = None, host: str = API_HOST,
) -> dict[str, Any]:  # fmt: skip
    """A REST API proxy event; its ``path`` never carries the stage (API Gateway strips it)."""
    all_headers = {"Host": host, "X-Forwarded-For": f"{source_ip}, 130.176.0.1", **(headers or {})}
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {name: [value] for name, value in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "identity": {"sourceIp": source_ip, "userAgent": "test"},
            "requestId": "req-v1",
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def http_v2(
    method: str, path: str, *, source_ip: str = "203.0.113.20", headers: dict[str, str] | None = None,
    query: str = "", body: Any = None, stage: str | None = STAGE, with_stage_in_path: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """An HTTP API event (stage in ``rawPath`` unless through a custom domain) or, with stage None, a function URL."""
    all_headers = {"host": API_HOST, "x-forwarded-for": source_ip, **{k.lower(): v for k, v in (headers or {}).items()}}
    if body is not None:
        all_headers.setdefault("content-type", "application/json")
    raw_path = f"/{stage}{path}" if stage and with_stage_in_path else path
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": all_headers,
        "requestContext": {
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": "test",
            },
            "stage": stage or "$default",
            "requestId": "req-v2",
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
