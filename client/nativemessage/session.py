"""What the sync and the async client share: credentials, retry policy, tokens, the last rate limit seen."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, TypedDict

import httpx

from nativemessage.calls import Call
from nativemessage.config import resolve_credentials
from nativemessage.engine import exchange
from nativemessage.ratelimit import RateLimit, parse_rate_limit
from nativemessage.retry import DEFAULT_DEADLINE, DEFAULT_MAX_RETRIES, RetryPolicy
from nativemessage.tokens import TokenSession
from nativemessage.version import __version__

DEFAULT_TIMEOUT = 30.0
DEFAULT_PAGE_SIZE = 50


class Options(TypedDict, total=False):
    """The keyword options of ``Client`` and ``AsyncClient`` (the package's README explains each)."""

    username: str | None
    password: str | None
    refresh_token: str | None
    # Retries after the first attempt (default 3); 0 turns retrying off.
    max_retries: int | None
    # Seconds one attempt may take (default 30).
    timeout: float | None
    # Seconds a whole call may take, waits and retries included (default 120).
    deadline: float | None
    # httpx's event hooks ({"request": [...], "response": [...]}), e.g. for metrics or tracing.
    event_hooks: Mapping[str, list[Callable[..., Any]]] | None


class Session:
    """The state behind a client; subclasses add the I/O (``httpx.Client`` or ``httpx.AsyncClient``)."""

    _http: httpx.Client | httpx.AsyncClient

    def __init__(self, base_url: str | None, api_key: str | None, options: Options) -> None:
        unknown = set(options) - set(Options.__annotations__)
        if unknown:
            raise TypeError(f"unexpected option(s): {', '.join(sorted(unknown))}")
        username, password = options.get("username"), options.get("password")
        refresh_token = options.get("refresh_token")
        self._credentials = resolve_credentials(base_url, api_key, username, password, refresh_token)
        self.base_url = self._credentials.base_url
        max_retries, deadline = options.get("max_retries"), options.get("deadline")
        self.retry_policy = RetryPolicy(
            max_retries=DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
            deadline=DEFAULT_DEADLINE if deadline is None else deadline,
        )
        self.timeout = options.get("timeout") or DEFAULT_TIMEOUT
        self.event_hooks = dict(options.get("event_hooks") or {})
        # None with an API key: nothing to renew.
        self.tokens = None if self._credentials.api_key is not None else TokenSession(username, password, refresh_token)
        self._rate_limit: RateLimit | None = None

    @property
    def rate_limit(self) -> RateLimit | None:
        """``(limit, remaining, reset)`` from the last response that carried them (None before any)."""
        return self._rate_limit

    def __repr__(self) -> str:
        who = f" username={self._credentials.username!r}" if self._credentials.username else ""
        return f"<{type(self).__name__} {self.base_url} auth={self._credentials.kind}{who}>"

    @staticmethod
    def default_headers() -> dict[str, str]:
        """Headers of every request (never a credential: those are added per request)."""
        return {"User-Agent": f"nativemessage-python/{__version__} httpx/{httpx.__version__}"}

    def api_key_headers(self) -> dict[str, str]:
        """The X-API-Key header of a client made with an API key."""
        key = self._credentials.api_key
        return {} if key is None else {"X-API-Key": key}

    def exchange(self, call: Call) -> Any:
        """The step generator of one call (engine.exchange) with this client's settings."""
        return exchange(
            call, build=self._http.build_request, policy=self.retry_policy, timeout=self.timeout, observe=self._observe
        )

    def _observe(self, response: httpx.Response) -> None:
        described = parse_rate_limit(response.headers, time.time())
        if described is not None:
            self._rate_limit = described
