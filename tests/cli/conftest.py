"""Fixtures of the CLI tests: run a command of the test app, a tenant to work on, a failed run's shape."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from flask import Flask

Invoke = Callable[..., Result]


@pytest.fixture
def cli(app: Flask) -> Invoke:
    """Run a CLI command of ``app``: ``cli("users", "create", ..., stdin="password\\n")``."""
    runner = app.test_cli_runner()

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(args=list(args), input=stdin)

    return invoke


@pytest.fixture
def acme(cli: Invoke) -> None:
    """Tenant acme, created with the CLI."""
    result = cli("tenants", "create", "acme")
    assert result.exit_code == 0, result.output


def assert_failed(result: Result, *fragments: str) -> None:
    """The command exited non-zero and said why on stderr, with nothing on stdout."""
    assert result.exit_code != 0, result.output
    assert result.stdout == ""
    for fragment in fragments:
        assert fragment in result.stderr
