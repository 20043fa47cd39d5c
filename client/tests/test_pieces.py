"""The client's pure pieces, without a server: backoff, header parsing, credentials, the renewal rule."""

from __future__ import annotations

import base64
import json
import random

import httpx
import pytest
from nativemessage import ConfigurationError, RateLimit
from nativemessage.calls import Reply, login, send_message
from nativemessage.config import DEFAULT_BASE_URL, resolve_credentials
from nativemessage.ratelimit import parse_rate_limit, retry_after
from nativemessage.retry import RetryPolicy, failure_is_retryable, status_is_retryable
from nativemessage.tokens import TokenSession, renewal_margin

NOW = 1_700_000_000.0


def test_backoff_is_full_jitter_over_an_exponential_range():
    policy = RetryPolicy(base=0.5, cap=4.0, rng=random.Random(7))
    for retry, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 4.0]):
        delays = [policy.delay(retry) for _ in range(500)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert min(delays) < ceiling * 0.1 and max(delays) > ceiling * 0.9  # the whole range, not a fixed step


def test_backoff_never_comes_before_the_servers_floor():
    policy = RetryPolicy(base=0.5, cap=4.0, rng=random.Random(7))
    delays = [policy.delay(1, floor=30) for _ in range(500)]
    assert min(delays) >= 30 and max(delays) <= 31  # spread past the floor by the jitter of that retry


def test_which_failures_are_retried():
    request = httpx.Request("POST", "http://127.0.0.1/")
    refused = httpx.ConnectError("refused", request=request)
    lost = httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    assert failure_is_retryable(refused, idempotent=False)  # nothing was sent
    assert not failure_is_retryable(lost, idempotent=False)  # it may have been served
    assert failure_is_retryable(lost, idempotent=True)
    assert not failure_is_retryable(httpx.UnsupportedProtocol("ftp", request=request), idempotent=True)
    assert status_is_retryable(429, idempotent=False)  # refused before anything ran
    assert not status_is_retryable(503, idempotent=False) and status_is_retryable(503, idempotent=True)
    assert not status_is_retryable(500, idempotent=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "187", "X-RateLimit-Reset": str(int(NOW) + 42)},
         RateLimit(200, 187, int(NOW) + 42)),
        ({"RateLimit-Policy": '"tenant";q=200;w=60', "RateLimit": '"tenant";r=187;t=42'},
         RateLimit(200, 187, int(NOW) + 42)),
        # Both: the standard form wins (its t= needs no agreement between the two clocks).
        ({"X-RateLimit-Limit": "200", "X-RateLimit-Remaining": "187", "X-RateLimit-Reset": str(int(NOW) + 999),
          "RateLimit-Policy": '"tenant";q=200;w=60', "RateLimit": '"tenant";r=187;t=42'},
         RateLimit(200, 187, int(NOW) + 42)),
        # Two policies: the one with the least left binds.
        ({"RateLimit-Policy": '"burst";q=10;w=1, "tenant";q=200;w=60', "RateLimit": '"tenant";r=150;t=42, "burst";r=0;t=1'},
         RateLimit(10, 0, int(NOW) + 1)),
        ({"Content-Type": "application/json"}, None),
        ({"RateLimit": "garbage"}, None),
    ],
    ids=["x-ratelimit", "standard", "both", "two policies", "none", "malformed"],
)  # fmt: skip
def test_rate_limit_headers_of_either_form(headers, expected):
    assert parse_rate_limit(httpx.Headers(headers), NOW) == expected


def test_retry_after_is_the_header_else_the_reset():
    assert retry_after(httpx.Headers({"Retry-After": "7"}), NOW) == 7
    assert retry_after(httpx.Headers({"Retry-After": "Tue, 14 Nov 2023 22:13:27 GMT"}), NOW) == pytest.approx(7)
    standard = {"RateLimit-Policy": '"tenant";q=5;w=60', "RateLimit": '"tenant";r=0;t=12'}
    assert retry_after(httpx.Headers(standard), NOW) == 12
    legacy = {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(NOW) + 9)}
    assert retry_after(httpx.Headers(legacy), NOW) == 9
    assert retry_after(httpx.Headers({**legacy, "X-RateLimit-Remaining": "1"}), NOW) is None


def test_credentials_come_from_arguments_then_the_environment():
    env = {"NATIVEMESSAGE_API_KEY": "nmk_test_env", "NATIVEMESSAGE_BASE_URL": "http://127.0.0.1:5000/"}
    from_env = resolve_credentials(environ=env)
    assert (from_env.base_url, from_env.api_key) == ("http://127.0.0.1:5000", "nmk_test_env")
    given = resolve_credentials("https://example.test/api/v1", username="u", password="p", environ=env)
    assert (given.base_url, given.api_key, given.username) == ("https://example.test", None, "u")
    assert resolve_credentials(api_key="k", environ={}).base_url == DEFAULT_BASE_URL


@pytest.mark.parametrize(
    "arguments",
    [{}, {"api_key": "k", "username": "u", "password": "p"}, {"password": "p"}, {"username": "u"},
     {"base_url": "ftp://example.test", "api_key": "k"}],
    ids=["nothing", "key and password", "password alone", "username alone", "not http"],
)  # fmt: skip
def test_unusable_credentials_are_refused(arguments):
    with pytest.raises(ConfigurationError):
        resolve_credentials(environ={}, **arguments)


def test_secrets_stay_out_of_reprs():
    credentials = resolve_credentials(username="u", password="hunter2-hunter2", environ={})
    keyed = resolve_credentials(api_key="nmk_test_secret", environ={})
    session = TokenSession("u", "hunter2-hunter2", "refresh.secret.token")
    shown = [repr(credentials), repr(keyed), repr(session), repr(login("u", "hunter2-hunter2"))]
    shown.append(repr(Reply(200, {}, {"access_token": "access.secret.token"}, 0.0)))
    for text in shown:
        for secret in ("hunter2-hunter2", "nmk_test_secret", "refresh.secret.token", "access.secret.token"):
            assert secret not in text


def test_every_send_carries_an_idempotency_key():
    generated = {send_message("+14155550123", "hi", None).headers["Idempotency-Key"] for _ in range(3)}
    assert len(generated) == 3
    assert send_message("+14155550123", "hi", "mine").headers["Idempotency-Key"] == "mine"


@pytest.mark.parametrize(("lifetime", "margin"), [(900, 60), (300, 30), (5, 2), (20, 2), (86400, 60)])
def test_renewal_margin_is_60_s_or_a_tenth_of_the_life_whichever_is_smaller_at_least_2_s(lifetime, margin):
    assert renewal_margin(lifetime) == margin


def token(iat: int, exp: int) -> str:
    payload = base64.urlsafe_b64encode(json.dumps({"iat": iat, "exp": exp}).encode()).decode().rstrip("=")
    return f"header.{payload}.signature"


def test_a_token_is_renewed_from_its_own_claims_on_the_local_clock():
    now = [1000.0]
    session = TokenSession("u", "p", None, clock=lambda: now[0])
    renewal = session.renewal()
    assert next(renewal).url == "/api/v1/auth/login"
    # The server's clock is an hour off: only exp - iat counts, from when the request was sent.
    answer = {"access_token": token(5000, 5900), "refresh_token": "r", "expires_in": 900}
    with pytest.raises(StopIteration):
        renewal.send(Reply(200, {}, answer, sent_at=1000.0))
    now[0] = 1000.0 + 900 - 1 - 60 - 0.01
    assert not session.needs_renewal()
    now[0] += 0.02
    assert session.needs_renewal()  # its last minute (and a second for the claims' rounding)
    assert session.needs_renewal(refused=token(5000, 5900))  # a token the server refused, at any time
