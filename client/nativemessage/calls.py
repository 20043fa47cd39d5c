"""The API's endpoints as call descriptions, and the replies they get; shared by the sync and the async client.

A ``Call`` says what to send and whether repeating it is harmless (``idempotent``); it never says
how to send it. Its ``repr`` shows the method and path only: a login call holds a password, and a
``Reply`` to it holds tokens.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from nativemessage.config import API_PREFIX

JSON = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One API request: method, path under /api/v1, body, query, headers, and how it may be retried."""

    method: str
    path: str
    json: Any = field(default=None, repr=False)
    params: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    # False for login and refresh, which carry their own credential instead of the client's.
    authenticated: bool = True
    # Whether a repeat after a failure that may have reached the server is harmless.
    idempotent: bool = False

    @property
    def url(self) -> str:
        """The path with the API's prefix."""
        return f"{API_PREFIX}{self.path}"

    def __repr__(self) -> str:
        return f"Call({self.method} {self.url})"


@dataclass(frozen=True)
class Reply:
    """An API answer the client acted on: status, headers, JSON body, and when its request was sent."""

    status: int
    headers: Any
    body: Any
    # time.monotonic() when the request that got this answer was sent.
    sent_at: float

    def __repr__(self) -> str:
        return f"Reply(status={self.status})"  # a token response's body holds tokens


def _segment(value: str) -> str:
    return quote(value, safe="")


def me() -> Call:
    """GET /me: the caller's principal."""
    return Call("GET", "/me", idempotent=True)


def login(username: str, password: str) -> Call:
    """POST /auth/login: a token pair (not retried after a failure that may have reached the server)."""
    return Call("POST", "/auth/login", json={"username": username, "password": password}, authenticated=False)


def refresh(refresh_token: str) -> Call:
    """POST /auth/refresh: a new access token; repeating it only mints another one."""
    headers = {"Authorization": f"Bearer {refresh_token}"}
    return Call("POST", "/auth/refresh", headers=headers, authenticated=False, idempotent=True)


def send_message(to: str, body: str, idempotency_key: str | None) -> Call:
    """POST /messages, always with an Idempotency-Key (made here when none is given), so retries are safe."""
    key = idempotency_key if idempotency_key is not None else str(uuid.uuid4())
    return Call("POST", "/messages", json={"to": to, "body": body}, headers={"Idempotency-Key": key}, idempotent=True)


def list_messages(limit: int, cursor: str | None) -> Call:
    """GET /messages: one page, newest first."""
    return Call("GET", "/messages", params=_page(limit, cursor), idempotent=True)


def get_message(message_id: str) -> Call:
    """GET /messages/<id>."""
    return Call("GET", f"/messages/{_segment(message_id)}", idempotent=True)


def create_api_key(name: str, expires_at: datetime | str | None, permissions: list[str] | None) -> Call:
    """POST /api-keys: mints a key, so it is never repeated after a failure that may have reached the server."""
    body: JSON = {"name": name}
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat() if isinstance(expires_at, datetime) else expires_at
    if permissions is not None:
        body["permissions"] = permissions
    return Call("POST", "/api-keys", json=body)


def list_api_keys(limit: int | None, cursor: str | None, status: str | None) -> Call:
    """GET /api-keys: one page of the caller's keys (an admin: the tenant's)."""
    params = _page(limit, cursor)
    if status is not None:
        params["status"] = status
    return Call("GET", "/api-keys", params=params, idempotent=True)


def revoke_api_key(key_id: str) -> Call:
    """DELETE /api-keys/<id>: revoking twice is harmless."""
    return Call("DELETE", f"/api-keys/{_segment(key_id)}", idempotent=True)


def rotate_api_key(key_id: str, grace_seconds: int | None) -> Call:
    """POST /api-keys/<id>/rotate: mints a key, so never repeated after a failure that may have reached the server."""
    body: JSON = {} if grace_seconds is None else {"grace_seconds": grace_seconds}
    return Call("POST", f"/api-keys/{_segment(key_id)}/rotate", json=body)


def _page(limit: int | None, cursor: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if limit is not None:
        params["limit"] = limit
    if cursor:
        params["cursor"] = cursor
    return params
