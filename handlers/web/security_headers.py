"""Headers every API response carries, whatever produced it."""

from __future__ import annotations

from flask import Flask, Response, request

# Answers that carry a secret (tokens, a new API key) must never sit in a browser or proxy cache.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Public, cacheable documents; everything else under /api/v1 is per-caller data.
CACHEABLE_ENDPOINTS = frozenset({"health.health", "health.openapi_document"})
NOSNIFF = ("X-Content-Type-Options", "nosniff")
PER_CALLER = ("Cache-Control", "no-store")


def init_security_headers(app: Flask) -> None:
    """Add nosniff everywhere and no-store to the API's per-caller answers."""

    @app.after_request
    def add_headers(response: Response) -> Response:
        headers = response.headers
        wanted = [NOSNIFF]
        if request.path.startswith("/api/") and request.endpoint not in CACHEABLE_ENDPOINTS:
            wanted.append(PER_CALLER)
        # What a handler set itself stands; the rest is appended in one go.
        headers.extend([(name, value) for name, value in wanted if name not in headers])
        return response
