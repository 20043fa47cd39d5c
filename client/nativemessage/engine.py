"""One call's life, without I/O: authorize, send, read the answer, retry or raise.

``exchange`` is a generator that yields *steps* and receives their results; the sync and the async
client each run it with their own I/O (``Client._drive``, ``AsyncClient._drive``), so the retry rules,
the error mapping and the token handling exist once:

- ``Authorize(refused)``: the driver answers with the credential headers (renewing the access token
  first if needed, or if ``refused`` is the token the server just refused);
- ``Send(request)``: the driver answers with the ``httpx.Response`` or the ``httpx.TransportError``;
- ``Sleep(seconds)``: the driver waits;
- ``Call``, yielded by a token renewal only: the driver runs that call's own exchange and answers
  with its ``Reply`` or the ``AuthenticationError`` it raised.

Exceptions are raised outside any ``except`` block, so none of them chains to an httpx exception
that holds the request and its credential headers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import Any, NamedTuple

import httpx

from nativemessage.calls import Call, Reply
from nativemessage.errors import ApiError, NetworkError, error_from_answer
from nativemessage.ratelimit import retry_after
from nativemessage.retry import RetryPolicy, failure_is_retryable, status_is_retryable

log = logging.getLogger("nativemessage")


class Authorize(NamedTuple):
    """Ask the driver for the credential headers; ``refused`` is an access token the server refused."""

    refused: str | None = None


class Send(NamedTuple):
    """Ask the driver to send a request."""

    request: httpx.Request


class Sleep(NamedTuple):
    """Ask the driver to wait."""

    seconds: float


Step = Authorize | Send | Sleep | Call
RequestBuilder = Callable[..., httpx.Request]


def exchange(
    call: Call,
    *,
    build: RequestBuilder,
    policy: RetryPolicy,
    timeout: float,
    observe: Callable[[httpx.Response], None],
    clock: Callable[[], float] = time.monotonic,
) -> Generator[Step, Any, Reply]:
    """Make ``call`` until it succeeds or may not be retried; return its reply or raise its error."""
    deadline = clock() + policy.deadline
    retries = 0
    refused: str | None = None  # the access token a 401 refused: renewed once, then the 401 stands
    renewed = False
    while True:
        credential: dict[str, str] = (yield Authorize(refused)) if call.authenticated else {}
        request = build(
            call.method,
            call.url,
            json=call.json,
            params=call.params,
            headers={**call.headers, **credential},
            # Each attempt may take the configured timeout, but never past the call's deadline.
            timeout=max(0.001, min(timeout, deadline - clock())),
        )
        sent_at = clock()
        outcome = yield Send(request)
        if isinstance(outcome, httpx.Response):
            observe(outcome)
            body = _json(outcome)
            if outcome.is_success:
                return Reply(outcome.status_code, outcome.headers, body, sent_at)
            wait = retry_after(outcome.headers, time.time())
            error: ApiError | NetworkError = error_from_answer(outcome.status_code, body, outcome.headers, wait)
            bearer = credential.get("Authorization", "").removeprefix("Bearer ")
            if outcome.status_code == 401 and bearer and not renewed:
                # An access token refused before its time (a clock off, a restarted signing key):
                # renew it once and repeat; the server refused the request before doing anything.
                refused, renewed = bearer, True
                continue
            retryable = status_is_retryable(outcome.status_code, call.idempotent)
        else:
            wait = None
            error = NetworkError(f"{call.method} {call.url} failed: {type(outcome).__name__}: {outcome}")
            retryable = failure_is_retryable(outcome, call.idempotent)
        refused = None
        if not retryable or retries >= policy.max_retries:
            raise error
        delay = policy.delay(retries, wait)
        if clock() + delay > deadline:
            raise error  # waiting would outlive the deadline: say so now rather than sleep and fail
        log.info("retrying %s %s in %.2f s after %s (retry %d of %d)", call.method, call.url, delay,
                 _reason(error), retries + 1, policy.max_retries)  # fmt: skip
        yield Sleep(delay)
        retries += 1


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _reason(error: ApiError | NetworkError) -> str:
    return f"{error.status} {error.code}" if isinstance(error, ApiError) else "a network failure"
