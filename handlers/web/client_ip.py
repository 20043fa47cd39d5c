"""The caller's IP address, wherever the app runs."""

from __future__ import annotations

from flask import request


def client_ip() -> str:
    """The caller's IP: from the API Gateway event on Lambda, else the WSGI peer (after ProxyFix)."""
    event = request.environ.get("lambda.event")
    if isinstance(event, dict):
        context = event.get("requestContext") or {}
        source = (context.get("http") or {}).get("sourceIp") or (context.get("identity") or {}).get("sourceIp")
        if source:
            return str(source)
    return request.remote_addr or "unknown"
