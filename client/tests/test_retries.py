"""Retries against the real service: backoff on a tenant limit of 5, a lost response, an outage, refused connections."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from client_checks import assert_backoff_honoured
from client_stack import Recorder
from fault_proxy import FaultProxy, fault_proxy
from nativemessage import AsyncClient, Client, NetworkError, RateLimited, ServiceUnavailable

pytestmark = pytest.mark.slow

TO = "+14155550123"
LIMIT = 5
SENDS = 8  # the limit's 5 in a first window, 3 that must wait for the next


def bodies(messages) -> list[str]:
    return sorted(message["body"] for message in messages)


def test_sends_past_a_limit_of_5_back_off_and_each_makes_one_message(stack, admin_of):
    recorder = Recorder()
    client = admin_of("tiny", event_hooks=recorder.hooks())  # logging in counts against the IP, not the tenant
    first = [client.messages.send(to=TO, body=f"sync {n}") for n in range(LIMIT)]
    assert client.rate_limit is not None and (client.rate_limit.limit, client.rate_limit.remaining) == (LIMIT, 0)

    # The window is full. A client allowed no retry, or too short a deadline, says so at once.
    started = time.monotonic()
    with pytest.raises(RateLimited) as no_retries:
        admin_of("tiny", max_retries=0).messages.send(to=TO, body="not now")
    with pytest.raises(RateLimited) as short_deadline:
        admin_of("tiny", deadline=3).messages.send(to=TO, body="not now either")
    assert time.monotonic() - started < 3 + 2  # the 3 s deadline was never slept through
    for error in (no_retries.value, short_deadline.value):
        assert error.status == 429 and error.code == "rate_limited"
        assert error.retry_after is not None and 3 < error.retry_after <= 60

    # The others wait for the next window, no sooner than the server said.
    with ThreadPoolExecutor(SENDS - LIMIT) as pool:
        rest = list(pool.map(lambda n: client.messages.send(to=TO, body=f"sync {n}"), range(LIMIT, SENDS)))

    assert_backoff_honoured(recorder)
    stored = stack.stored_messages("tiny")
    assert bodies(stored) == bodies(first + rest) == sorted(f"sync {n}" for n in range(SENDS))  # one message per send
    assert sorted(m["message_id"] for m in stored) == sorted(m["id"] for m in first + rest)


@pytest.mark.asyncio
async def test_async_sends_past_a_limit_of_5_back_off_and_each_makes_one_message(stack):
    recorder = Recorder()
    async with AsyncClient(stack.url, username=stack.admin("atiny"), password=stack.password,
                           event_hooks=recorder.async_hooks()) as client:  # fmt: skip
        sent = await asyncio.gather(*(client.messages.send(to=TO, body=f"async {n}") for n in range(SENDS)))

    assert_backoff_honoured(recorder)
    stored = stack.stored_messages("atiny")
    assert bodies(stored) == bodies(sent) == sorted(f"async {n}" for n in range(SENDS))  # one message per send
    assert sorted(m["message_id"] for m in stored) == sorted(m["id"] for m in sent)
    assert client.rate_limit is not None and client.rate_limit.limit == LIMIT


@contextlib.contextmanager
def behind_a_proxy(stack, **options) -> Iterator[tuple[FaultProxy, Client, Recorder]]:
    """A password client of acme reaching gunicorn through a FaultProxy, logged in before any fault."""
    recorder = Recorder()
    with fault_proxy(stack.server_port) as proxy, Client(proxy.url, username=stack.admin("acme"),
            password=stack.password, event_hooks=recorder.hooks(), **options) as client:  # fmt: skip
        client.me()
        yield proxy, client, recorder


def assert_stored_once(stack, recorder, proxy, sent) -> None:
    """Assert a send whose first response was lost was retried under its key, and its message stored once."""
    stored = [m for m in stack.stored_messages("acme") if m["body"] == sent["body"]]
    assert [m["message_id"] for m in stored] == [sent["id"]]
    assert proxy.dropped.is_set()
    attempts = recorder.to("POST", "/messages")
    assert [a.status for a in attempts] == [None, 201]  # the first answer never came back
    assert attempts[0].idempotency_key and attempts[0].idempotency_key == attempts[1].idempotency_key
    assert attempts[1].headers["Idempotent-Replayed"] == "true"
    served = [line.status for line in stack.server_lines(recorder.tag, expected=len(recorder.attempts))
              if line.path.endswith("/messages") and line.method == "POST"]  # fmt: skip
    assert served == [201, 201]  # the server did create it the first time


def test_a_send_whose_response_is_lost_is_retried_under_its_key_and_stored_once(stack):
    with behind_a_proxy(stack) as (proxy, client, recorder):
        proxy.drop_next_response(b"POST /api/v1/messages")
        sent = client.messages.send(to=TO, body="lost once, sync")
    assert_stored_once(stack, recorder, proxy, sent)


@pytest.mark.asyncio
async def test_an_async_send_whose_response_is_lost_is_retried_under_its_key_and_stored_once(stack):
    recorder = Recorder()
    with fault_proxy(stack.server_port) as proxy:
        async with AsyncClient(proxy.url, username=stack.admin("acme"), password=stack.password,
                               event_hooks=recorder.async_hooks()) as client:  # fmt: skip
            await client.me()
            proxy.drop_next_response(b"POST /api/v1/messages")
            sent = await client.messages.send(to=TO, body="lost once, async")
    assert_stored_once(stack, recorder, proxy, sent)


def test_a_key_whose_response_is_lost_is_not_minted_again(stack, admin_of):
    with behind_a_proxy(stack) as (proxy, client, recorder):
        proxy.drop_next_response(b"POST /api/v1/api-keys")
        with pytest.raises(NetworkError, match="POST /api/v1/api-keys failed"):
            client.api_keys.create("lost key")
    assert [a.status for a in recorder.to("POST", "/api-keys")] == [None]  # tried once, never repeated
    assert [k["name"] for k in admin_of("acme").api_keys.list()].count("lost key") == 1


def test_a_refused_connection_is_retried_even_for_a_key_since_nothing_was_sent(stack, admin_of):
    with behind_a_proxy(stack, max_retries=5) as (proxy, client, recorder):
        proxy.stop_listening()
        # Listening again shortly after the first attempt was refused.
        threading.Timer(0.2, proxy.listen).start()
        created = client.api_keys.create("refused first")
    attempts = recorder.to("POST", "/api-keys")
    assert len(attempts) >= 2 and attempts[-1].status == 201 and {a.status for a in attempts[:-1]} == {None}
    assert [k["id"] for k in admin_of("acme").api_keys.list() if k["name"] == "refused first"] == [created["id"]]


def test_a_503_in_a_dynamodb_outage_is_retried_for_reads_not_for_a_key(stack):
    recorder = Recorder()

    def outage_over_once_seen(response) -> None:
        if response.status_code == 503:
            stack.dynamodb.resume()

    hooks = recorder.hooks()
    hooks["response"].append(outage_over_once_seen)
    with Client(stack.url, username=stack.admin("acme"), password=stack.password, event_hooks=hooks) as client:
        sent = client.messages.send(to=TO, body="before the outage")
        stack.dynamodb.suspend()
        read = client.messages.get(sent["id"])
        stack.dynamodb.suspend()
        with pytest.raises(ServiceUnavailable) as unavailable:
            client.api_keys.create("during an outage")
    stack.dynamodb.resume()

    reads = recorder.to("GET", f"/messages/{sent['id']}")
    assert [a.status for a in reads] == [503, 200] and read == sent
    assert reads[0].answered is not None and reads[1].sent - reads[0].answered >= reads[0].retry_after >= 1
    assert [a.status for a in recorder.to("POST", "/api-keys")] == [503]  # a key may have been minted: not repeated
    assert unavailable.value.retry_after is not None and unavailable.value.code == "unavailable"
