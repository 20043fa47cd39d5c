"""Credentials and tokens against the real service: env vars, proactive refresh, logging in again, no leaks."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from client_checks import assert_refreshed_before_expiry
from client_stack import ACCESS_TOKEN_TTL, Recorder, Stack
from nativemessage import AsyncClient, AuthenticationError, Client, NotFound

pytestmark = pytest.mark.slow

# Long enough for several 5-second tokens to come and go.
BUSY_SECONDS = 2 * ACCESS_TOKEN_TTL
WORKERS = 3


def login(stack: Stack, tenant: str) -> dict[str, str]:
    """A token pair obtained without the client."""
    answer = httpx.post(f"{stack.url}/api/v1/auth/login",
                        json={"username": stack.admin(tenant), "password": stack.password}, timeout=10)  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_api_key_and_base_url_come_from_the_environment(stack, admin_of, monkeypatch):
    key = admin_of("acme").api_keys.create("from the environment")["key"]
    monkeypatch.setenv("NATIVEMESSAGE_API_KEY", key)
    monkeypatch.setenv("NATIVEMESSAGE_BASE_URL", stack.url)
    with Client() as client:
        me = client.me()
    assert (me["auth"], me["tenant_id"], me["username"]) == ("api_key", "acme", stack.admin("acme"))


def test_threads_share_one_refresh_made_before_the_token_expires(stack):
    recorder = Recorder()
    client = Client(stack.url, username=stack.admin("acme"), password=stack.password, event_hooks=recorder.hooks())
    client.me()  # logs in
    until = time.monotonic() + BUSY_SECONDS

    def busy() -> None:
        while time.monotonic() < until:
            client.me()
            time.sleep(0.3)

    with ThreadPoolExecutor(WORKERS) as pool:
        for done in [pool.submit(busy) for _ in range(WORKERS)]:
            done.result()
    client.close()
    assert_refreshed_before_expiry(stack, recorder, minimum=3)


@pytest.mark.asyncio
async def test_tasks_share_one_refresh_made_before_the_token_expires(stack):
    recorder = Recorder()
    async with AsyncClient(stack.url, username=stack.admin("acme"), password=stack.password,
                           event_hooks=recorder.async_hooks()) as client:  # fmt: skip
        await client.me()
        until = time.monotonic() + BUSY_SECONDS

        async def busy() -> None:
            while time.monotonic() < until:
                await client.me()
                await asyncio.sleep(0.3)

        await asyncio.gather(*(busy() for _ in range(WORKERS)))
    assert_refreshed_before_expiry(stack, recorder, minimum=3)


def test_a_revoked_refresh_token_means_logging_in_again_with_the_password(stack):
    recorder = Recorder()
    client = Client(stack.url, username=stack.admin("acme"), password=stack.password, event_hooks=recorder.hooks())
    client.me()
    # The same user signs out everywhere from elsewhere: the client's refresh token stops working.
    elsewhere = login(stack, "acme")
    signed_out = httpx.post(f"{stack.url}/api/v1/auth/logout-all",
                            headers={"Authorization": f"Bearer {elsewhere['access_token']}"}, timeout=10)  # fmt: skip
    assert signed_out.status_code == 204
    time.sleep(ACCESS_TOKEN_TTL - 2)  # past the renewal point of the token, still before its end

    assert client.me()["username"] == stack.admin("acme")
    assert [(a.path.rsplit("/", 1)[-1], a.status) for a in recorder.attempts] == [
        ("login", 200), ("me", 200), ("refresh", 401), ("login", 200), ("me", 200),
    ]  # fmt: skip


def test_a_refresh_token_alone_is_a_credential(stack):
    tokens = login(stack, "acme")
    with Client(stack.url, refresh_token=tokens["refresh_token"]) as client:
        assert client.me()["auth"] == "jwt"


def test_without_a_password_a_revoked_refresh_token_is_an_authentication_error(stack):
    tokens = login(stack, "acme")
    revoked = httpx.post(f"{stack.url}/api/v1/auth/logout",
                         headers={"Authorization": f"Bearer {tokens['refresh_token']}"}, timeout=10)  # fmt: skip
    assert revoked.status_code == 204
    with (
        Client(stack.url, refresh_token=tokens["refresh_token"]) as client,
        pytest.raises(AuthenticationError) as error,
    ):
        client.me()
    assert (error.value.status, error.value.code) == (401, "invalid_token")
    assert "revoked" in error.value.message and error.value.request_id
    assert tokens["refresh_token"] not in f"{error.value} {error.value!r} {error.value.args}"


def test_secrets_are_never_in_reprs_logs_or_exceptions(stack, admin_of, caplog):
    recorder = Recorder()
    caplog.set_level(logging.DEBUG)  # httpx's and httpcore's own debug lines included
    admin = admin_of("acme", event_hooks=recorder.hooks())
    key = admin.api_keys.create("hygiene")["key"]
    refresh_token = login(stack, "acme")["refresh_token"]
    clients = [admin, Client(stack.url, api_key=key), Client(stack.url, refresh_token=refresh_token)]
    errors: list[Exception] = []
    for client in clients:
        client.me()
        with pytest.raises(NotFound) as missing:
            client.messages.get("msg_01ARZ3NDEKTSV4RRFFQ69G5FAV")
        errors.append(missing.value)
    wrong = Client(stack.url, username=stack.admin("acme"), password=stack.password + "x")
    with pytest.raises(AuthenticationError) as refused:
        wrong.me()
    errors.append(refused.value)
    for client in (*clients[1:], wrong):
        client.close()
    access_tokens = {a.bearer for a in recorder.attempts if a.bearer}

    secrets_seen = {key, refresh_token, stack.password, stack.password + "x", *access_tokens}
    shown = [repr(c) for c in (*clients, wrong)] + [repr(admin.tokens)]
    shown += [f"{e} {e!r} {e.args} {e.__cause__!r} {e.__context__!r}" for e in errors]
    shown += [caplog.text] + [repr(record.args) for record in caplog.records]
    for secret in secrets_seen:
        assert not any(secret in text for text in shown)
    assert "auth=password" in repr(admin) and "auth=api_key" in repr(clients[1])
