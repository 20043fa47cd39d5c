"""A small world for the OWASP API Top 10 suite: two tenants, each role, a key per role."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import api_key, bearer


@dataclass
class World:
    """Credentials of every kind of principal in tenant acme, and objects of tenant globex."""

    headers: dict[str, dict[str, str]]
    users: dict[str, Any]
    globex_user_id: str
    globex_key_id: str
    globex_message_id: str


@pytest.fixture
def world(client, make_user, login, make_key) -> World:
    headers: dict[str, dict[str, str]] = {"none": {}}
    users = {}
    for role in ("admin", "member", "viewer"):
        account = make_user(f"{role}@acme", role=role)
        users[role] = account
        headers[f"{role}-jwt"] = bearer(login(account)["access_token"])
    for role in ("admin", "member"):
        headers[f"{role}-key"] = api_key(make_key(headers[f"{role}-jwt"], name=f"{role} key")["key"])
    # A viewer cannot mint keys; an admin mints one that the viewer's demotion then narrows.
    promoted = make_user("was-member@acme", role="member")
    viewer_key = make_key(bearer(login(promoted)["access_token"]), name="viewer key")["key"]
    client.patch(f"/api/v1/users/{promoted.user_id}", json={"role": "viewer"}, headers=headers["admin-jwt"])
    headers["viewer-key"] = api_key(viewer_key)

    outsider = make_user("admin@globex", role="admin", tenant="globex")
    outsider_headers = bearer(login(outsider)["access_token"])
    globex_key = make_key(outsider_headers, name="globex key")
    message = client.post(
        "/api/v1/messages", json={"to": "+4930123456", "body": "globex only"}, headers=outsider_headers
    )
    return World(headers, users, outsider.user_id, globex_key["id"], message.get_json()["id"])
