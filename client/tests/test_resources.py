"""The client's surface against the real service: paging, typed errors, API keys, the last rate limit seen."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from client_stack import Recorder
from nativemessage import (
    ApiError,
    AsyncClient,
    AuthenticationError,
    Client,
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimit,
)

pytestmark = pytest.mark.slow

TO = "+14155550123"
MESSAGES = 120
PAGE = 50
UNKNOWN_MESSAGE = "msg_01ARZ3NDEKTSV4RRFFQ69G5FAV"


def assert_walked_every_page(recorder: Recorder, listed: list[dict], sent: list[dict]) -> None:
    """All messages once, newest first, in three pages each asking with the cursor the previous one gave."""
    assert [m["id"] for m in listed] == sorted((m["id"] for m in sent), reverse=True)
    pages = recorder.to("GET", "/messages")
    assert [page.query.get("limit") for page in pages] == [str(PAGE)] * 3
    # The first page without a cursor, each later one with the cursor the page before it gave.
    assert "cursor" not in pages[0].query
    assert [page.query["cursor"] for page in pages[1:]] == [page.body["next_cursor"] for page in pages[:-1]]
    assert pages[-1].body["next_cursor"] is None


def test_list_walks_every_page_of_120_messages(stack, admin_of):
    recorder = Recorder()
    client = admin_of("pages", event_hooks=recorder.hooks())
    with ThreadPoolExecutor(4) as pool:
        sent = list(pool.map(lambda n: client.messages.send(to=TO, body=f"page {n}"), range(MESSAGES)))
    listed = list(client.messages.list(limit=PAGE))
    assert_walked_every_page(recorder, listed, sent)


@pytest.mark.asyncio
async def test_async_list_walks_every_page_of_120_messages(stack):
    recorder = Recorder()
    async with AsyncClient(stack.url, username=stack.admin("apages"), password=stack.password,
                           event_hooks=recorder.async_hooks()) as client:  # fmt: skip
        gate = asyncio.Semaphore(4)

        async def send(n: int) -> dict:
            async with gate:
                return await client.messages.send(to=TO, body=f"page {n}")

        sent = await asyncio.gather(*(send(n) for n in range(MESSAGES)))
        listed = [message async for message in client.messages.list(limit=PAGE)]
    assert_walked_every_page(recorder, listed, sent)


def test_error_answers_become_typed_exceptions(stack, admin_of):
    recorder = Recorder()
    admin = admin_of("acme", event_hooks=recorder.hooks())
    key = Client(stack.url, api_key=admin.api_keys.create("typed errors")["key"])

    cases = [
        (NotFound, 404, "not_found", lambda: admin.messages.get(UNKNOWN_MESSAGE)),
        (PermissionDenied, 403, "insufficient_scope", lambda: list(key.api_keys.list())),
        (ApiError, 400, "invalid_request", lambda: admin.messages.send(to="not a number", body="hi")),
        (AuthenticationError, 401, "invalid_credentials",
         lambda: Client(stack.url, username=stack.admin("acme"), password="wrong password").me()),
        (AuthenticationError, 401, "invalid_token", lambda: Client(stack.url, api_key="nmk_test_" + "0" * 36).me()),
    ]  # fmt: skip
    for kind, status, code, call in cases:
        with pytest.raises(kind) as error:
            call()
        assert type(error.value) is kind
        assert (error.value.status, error.value.code) == (status, code)
        assert error.value.message and error.value.request_id

    # The same idempotency key with another body is a conflict; the request id is the server's.
    admin.messages.send(to=TO, body="first", idempotency_key="typed-errors-1")
    with pytest.raises(Conflict) as conflict:
        admin.messages.send(to=TO, body="second", idempotency_key="typed-errors-1")
    assert (conflict.value.status, conflict.value.code) == (409, "conflict")
    assert conflict.value.request_id == recorder.attempts[-1].request_id
    key.close()


def test_an_invalid_request_carries_the_fields_at_fault(stack, admin_of):
    with pytest.raises(ApiError) as error:
        admin_of("acme").messages.send(to="+1", body="")
    assert {detail["field"] for detail in error.value.details or []} >= {"to", "body"}


def test_api_keys_are_created_listed_rotated_and_revoked(stack, admin_of):
    admin = admin_of("acme")
    created = admin.api_keys.create("lifecycle")
    assert created["key"].startswith("nmk_test_")
    listed = {k["id"]: k for k in admin.api_keys.list()}
    assert created["id"] in listed and "key" not in listed[created["id"]]

    rotated = admin.api_keys.rotate(created["id"], grace_seconds=3600)
    with Client(stack.url, api_key=created["key"]) as old, Client(stack.url, api_key=rotated["key"]) as new:
        assert old.me()["key_id"] == created["id"]  # in its grace period
        assert new.me()["key_id"] == rotated["id"]
        admin.api_keys.revoke(rotated["id"])
        admin.api_keys.revoke(rotated["id"])  # harmless the second time
        with pytest.raises(AuthenticationError):
            new.me()
    with pytest.raises(Conflict):
        admin.api_keys.rotate(created["id"])  # already rotated


def test_rate_limit_is_what_the_last_response_said(stack, admin_of):
    recorder = Recorder()
    client = admin_of("acme", event_hooks=recorder.hooks())
    assert client.rate_limit is None
    for _ in range(2):
        client.me()
        headers = recorder.attempts[-1].headers
        assert client.rate_limit == RateLimit(
            int(headers["X-RateLimit-Limit"]), int(headers["X-RateLimit-Remaining"]), client.rate_limit.reset
        )
        # Read from RateLimit's t= (seconds from now): the same instant as X-RateLimit-Reset, to the second.
        assert abs(client.rate_limit.reset - int(headers["X-RateLimit-Reset"])) <= 1
        assert client.rate_limit.reset > time.time()
