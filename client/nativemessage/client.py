"""The synchronous client: ``Client`` and its ``messages`` and ``api_keys`` resources.

Thread-safe: one ``Client`` may serve many threads; its access token is renewed by one thread at a
time (the others wait for that renewal rather than make their own).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Unpack

import httpx

from nativemessage import calls
from nativemessage.calls import JSON, Call, Reply
from nativemessage.engine import Authorize, Send, Sleep, Step
from nativemessage.errors import AuthenticationError
from nativemessage.session import DEFAULT_PAGE_SIZE, Options, Session


class Client(Session):
    """A client of the NativeMessage API (see the package's README for the options)."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, **options: Unpack[Options]) -> None:
        super().__init__(base_url, api_key, options)
        self._http: httpx.Client = httpx.Client(
            base_url=self.base_url, headers=self.default_headers(), event_hooks=self.event_hooks
        )
        self._renewing = threading.Lock()
        self.messages = Messages(self)
        self.api_keys = ApiKeys(self)

    def me(self) -> JSON:
        """The caller's principal: tenant, user, role, permissions, and how it authenticated."""
        body: JSON = self.request(calls.me()).body
        return body

    def request(self, call: Call) -> Reply:
        """Make one API call with this client's credentials, retries and deadline."""
        reply: Reply = self._drive(self.exchange(call))
        return reply

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _drive(self, steps: Any) -> Any:
        # Runs a step generator (engine.exchange, or a token renewal) to its end with real I/O.
        try:
            step = next(steps)
            while True:
                step = steps.send(self._perform(step))
        except StopIteration as done:
            return done.value
        finally:
            steps.close()

    def _perform(self, step: Step) -> Any:
        if isinstance(step, Send):
            return self._send(step.request)
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return None
        if isinstance(step, Authorize):
            return self._authorize(step.refused)
        outcome: Reply | AuthenticationError = self._renewal_call(step)
        return outcome

    def _send(self, request: httpx.Request) -> httpx.Response | httpx.TransportError:
        try:
            return self._http.send(request)
        except httpx.TransportError as failure:
            return failure  # the engine decides; returned, so nothing it raises chains to this

    def _renewal_call(self, call: Call) -> Reply | AuthenticationError:
        try:
            return self.request(call)
        except AuthenticationError as refused:
            return refused

    def _authorize(self, refused: str | None) -> dict[str, str]:
        session = self.tokens
        if session is None:
            return self.api_key_headers()
        if session.needs_renewal(refused):
            with self._renewing:
                # Another thread may have renewed while this one waited: check again under the lock.
                if session.needs_renewal(refused):
                    self._drive(session.renewal())
        return session.headers()


class Messages:
    """``client.messages``: send, list (every page), get."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def send(self, to: str, body: str, idempotency_key: str | None = None) -> JSON:
        """Send a message; retried safely under its Idempotency-Key (one is generated when none is given)."""
        message: JSON = self._client.request(calls.send_message(to, body, idempotency_key)).body
        return message

    def list(self, limit: int = DEFAULT_PAGE_SIZE) -> Iterator[JSON]:
        """Every message of the tenant, newest first, fetched ``limit`` per page as the iteration goes."""
        return _every_item(self._client, lambda cursor: calls.list_messages(limit, cursor))

    def get(self, message_id: str) -> JSON:
        """One message of the tenant (NotFound for any other id)."""
        message: JSON = self._client.request(calls.get_message(message_id)).body
        return message


class ApiKeys:
    """``client.api_keys``: create, list, revoke, rotate (with a user's credentials, not an API key)."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def create(self, name: str, *, expires_at: datetime | str | None = None, permissions: Any = None) -> JSON:
        """Mint a key; the answer's ``key`` is shown this once. Not retried once it may have reached the server."""
        created: JSON = self._client.request(calls.create_api_key(name, expires_at, permissions)).body
        return created

    def list(self, *, status: str | None = None, limit: int | None = None) -> Iterator[JSON]:
        """The caller's keys (an admin: the tenant's), never their secrets, over every page."""
        return _every_item(self._client, lambda cursor: calls.list_api_keys(limit, cursor, status))

    def revoke(self, key_id: str) -> None:
        """Revoke a key at once; revoking it again is harmless."""
        self._client.request(calls.revoke_api_key(key_id))

    def rotate(self, key_id: str, grace_seconds: int | None = None) -> JSON:
        """A new key for this one; the old one keeps working ``grace_seconds``. Not retried once it may have reached the server."""
        rotated: JSON = self._client.request(calls.rotate_api_key(key_id, grace_seconds)).body
        return rotated


def _every_item(client: Client, page: Any) -> Iterator[JSON]:
    cursor: str | None = None
    while True:
        body = client.request(page(cursor)).body
        yield from body["items"]
        cursor = body.get("next_cursor")
        if not cursor:
            return
