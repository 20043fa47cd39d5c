"""Two-factor answers to the client's login and refresh: the typed error with its code, asked once, never retried.

A login of a user with two-factor on needs a code the client does not send (``401 mfa_required``);
a user without it in a tenant that requires it is refused (``403 mfa_enrollment_required``), and so
is their refresh token. Retrying either, or logging in again, cannot help: the caller must see why.
"""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pyotp
import pytest
from client_stack import Recorder, Stack
from nativemessage import AuthenticationError, Client, PermissionDenied

from tests.integration.servers import check_cli

pytestmark = pytest.mark.slow


def post(stack: Stack, path: str, token: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """POST without the client (arranging the test), which must succeed: the JSON answer."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = httpx.post(f"{stack.url}/api/v1{path}", headers=headers, timeout=10, **kwargs)
    assert answer.is_success, answer.text
    return answer.json() if answer.content else {}


def new_tenant_user(stack: Stack) -> tuple[str, str, str]:
    """A tenant of the test's own and a user in it, made with the operator CLI: (tenant, username, password)."""
    tenant, password = f"mfa-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    check_cli(stack.env, "tenants", "create", tenant)
    check_cli(stack.env, "users", "create", "--tenant", tenant, "--username", f"user@{tenant}", "--role", "member",
              "--password-stdin", stdin=password + "\n")  # fmt: skip
    return tenant, f"user@{tenant}", password


def attempts(recorder: Recorder) -> list[tuple[str, int | None]]:
    return [(attempt.path.rsplit("/", 1)[-1], attempt.status) for attempt in recorder.attempts]


def test_a_login_that_needs_a_code_is_an_authentication_error_asked_once(stack):
    _, username, password = new_tenant_user(stack)
    access = post(stack, "/auth/login", json={"username": username, "password": password})["access_token"]
    secret = post(stack, "/me/mfa/totp", access)["secret"]
    post(stack, "/me/mfa/totp/confirm", access, json={"code": pyotp.TOTP(secret).now()})
    recorder = Recorder()
    with (
        Client(stack.url, username=username, password=password, event_hooks=recorder.hooks()) as client,
        pytest.raises(AuthenticationError) as refused,
    ):
        client.me()
    assert (refused.value.status, refused.value.code) == (401, "mfa_required")
    assert attempts(recorder) == [("login", 401)]


def test_a_login_refused_until_the_user_enrols_is_permission_denied_asked_once(stack):
    tenant, username, password = new_tenant_user(stack)
    check_cli(stack.env, "tenants", "set-mfa", tenant, "required")
    recorder = Recorder()
    with (
        Client(stack.url, username=username, password=password, event_hooks=recorder.hooks()) as client,
        pytest.raises(PermissionDenied) as refused,
    ):
        client.me()
    assert (refused.value.status, refused.value.code) == (403, "mfa_enrollment_required")
    assert "Settings → Account → Two-factor" in refused.value.message
    assert attempts(recorder) == [("login", 403)]


def test_a_refresh_refused_until_the_user_enrols_is_permission_denied_without_logging_in_again(stack):
    tenant, username, password = new_tenant_user(stack)
    tokens = post(stack, "/auth/login", json={"username": username, "password": password})
    # Nothing of the tenant has been read by the server's tenant cache yet: the requirement applies at once.
    check_cli(stack.env, "tenants", "set-mfa", tenant, "required")
    recorder = Recorder()
    with (
        Client(
            stack.url,
            username=username,
            password=password,
            refresh_token=tokens["refresh_token"],
            event_hooks=recorder.hooks(),
        ) as client,  # fmt: skip
        pytest.raises(PermissionDenied) as refused,
    ):
        client.me()
    assert (refused.value.status, refused.value.code) == (403, "mfa_enrollment_required")
    assert attempts(recorder) == [("refresh", 403)]
