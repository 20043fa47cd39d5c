"""Fixtures of the client's suite: one real stack for the whole suite (client_stack.py), and clients on it.

The stack is session-scoped: starting moto, provisioning tenants with the CLI and booting gunicorn
costs seconds, and every test has tenants of its own. The root pytest run collects this suite last
(testpaths), so the idle servers outlive no other test's use of moto.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from client_stack import Stack, client_stack
from nativemessage import Client


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """The running service (gunicorn on moto's DynamoDB server, 5-second access tokens)."""
    with client_stack() as running:
        yield running


@pytest.fixture
def admin_of(stack: Stack) -> Iterator[object]:
    """Make a password client of a tenant's admin (closed after the test)."""
    made: list[Client] = []

    def make(tenant: str, **options: object) -> Client:
        client = Client(stack.url, username=stack.admin(tenant), password=stack.password, **options)  # type: ignore[arg-type]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
