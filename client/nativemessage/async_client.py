"""The asynchronous client: ``AsyncClient``, the same surface as ``Client`` with ``await``.

Its access token is renewed by one task at a time (the others await that renewal). ``list()``
methods are async iterators: ``async for message in client.messages.list(): ...``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, Unpack

import httpx

from nativemessage import calls
from nativemessage.calls import JSON, Call, Reply
from nativemessage.engine import Authorize, Send, Sleep, Step
from nativemessage.errors import AuthenticationError
from nativemessage.session import DEFAULT_PAGE_SIZE, Options, Session


class AsyncClient(Session):
    """An asyncio client of the NativeMessage API (see the package's README for the options)."""

    def __init__(self, base_url: str | None = None, api_key: str | None = None, **options: Unpack[Options]) -> None:
        super().__init__(base_url, api_key, options)
        self._http: httpx.AsyncClient = httpx.AsyncClient(
            base_url=self.base_url, headers=self.default_headers(), event_hooks=self.event_hooks
        )
        self._renewing = asyncio.Lock()
        self.messages = AsyncMessages(self)
        self.api_keys = AsyncApiKeys(self)

    async def me(self) -> JSON:
        """The caller's principal: tenant, user, role, permissions, and how it authenticated."""
        body: JSON = (await self.request(calls.me())).body
        return body

    async def request(self, call: Call) -> Reply:
        """Make one API call with this client's credentials, retries and deadline."""
        reply: Reply = await self._drive(self.exchange(call))
        return reply

    async def aclose(self) -> None:
        """Close the connections."""
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def _drive(self, steps: Any) -> Any:
        # Runs a step generator (engine.exchange, or a token renewal) to its end with asyncio I/O.
        try:
            step = next(steps)
            while True:
                step = steps.send(await self._perform(step))
        except StopIteration as done:
            return done.value
        finally:
            steps.close()

    async def _perform(self, step: Step) -> Any:
        if isinstance(step, Send):
            return await self._send(step.request)
        if isinstance(step, Sleep):
            await asyncio.sleep(step.seconds)
            return None
        if isinstance(step, Authorize):
            return await self._authorize(step.refused)
        outcome: Reply | AuthenticationError = await self._renewal_call(step)
        return outcome

    async def _send(self, request: httpx.Request) -> httpx.Response | httpx.TransportError:
        try:
            return await self._http.send(request)
        except httpx.TransportError as failure:
            return failure  # the engine decides; returned, so nothing it raises chains to this

    async def _renewal_call(self, call: Call) -> Reply | AuthenticationError:
        try:
            return await self.request(call)
        except AuthenticationError as refused:
            return refused

    async def _authorize(self, refused: str | None) -> dict[str, str]:
        session = self.tokens
        if session is None:
            return self.api_key_headers()
        if session.needs_renewal(refused):
            async with self._renewing:
                # Another task may have renewed while this one waited: check again under the lock.
                if session.needs_renewal(refused):
                    await self._drive(session.renewal())
        return session.headers()


class AsyncMessages:
    """``client.messages``: send, list (every page), get."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def send(self, to: str, body: str, idempotency_key: str | None = None) -> JSON:
        """Send a message; retried safely under its Idempotency-Key (one is generated when none is given)."""
        message: JSON = (await self._client.request(calls.send_message(to, body, idempotency_key))).body
        return message

    def list(self, limit: int = DEFAULT_PAGE_SIZE) -> AsyncIterator[JSON]:
        """Every message of the tenant, newest first, fetched ``limit`` per page as the iteration goes."""
        return _every_item(self._client, lambda cursor: calls.list_messages(limit, cursor))

    async def get(self, message_id: str) -> JSON:
        """One message of the tenant (NotFound for any other id)."""
        message: JSON = (await self._client.request(calls.get_message(message_id))).body
        return message


class AsyncApiKeys:
    """``client.api_keys``: create, list, revoke, rotate (with a user's credentials, not an API key)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self, name: str, *, expires_at: datetime | str | None = None, permissions: Any = None) -> JSON:
        """Mint a key; the answer's ``key`` is shown this once. Not retried once it may have reached the server."""
        created: JSON = (await self._client.request(calls.create_api_key(name, expires_at, permissions))).body
        return created

    def list(self, *, status: str | None = None, limit: int | None = None) -> AsyncIterator[JSON]:
        """The caller's keys (an admin: the tenant's), never their secrets, over every page."""
        return _every_item(self._client, lambda cursor: calls.list_api_keys(limit, cursor, status))

    async def revoke(self, key_id: str) -> None:
        """Revoke a key at once; revoking it again is harmless."""
        await self._client.request(calls.revoke_api_key(key_id))

    async def rotate(self, key_id: str, grace_seconds: int | None = None) -> JSON:
        """A new key for this one; the old one keeps working ``grace_seconds``. Not retried once it may have reached the server."""
        rotated: JSON = (await self._client.request(calls.rotate_api_key(key_id, grace_seconds))).body
        return rotated


async def _every_item(client: AsyncClient, page: Any) -> AsyncIterator[JSON]:
    cursor: str | None = None
    while True:
        body = (await client.request(page(cursor))).body
        for item in body["items"]:
            yield item
        cursor = body.get("next_cursor")
        if not cursor:
            return
