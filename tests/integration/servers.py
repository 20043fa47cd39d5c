"""Real servers for integration tests: moto's DynamoDB server, the operator CLI and gunicorn.

Each helper starts something real and guarantees its teardown, even when the test fails, so a
test module only composes them (a later multi-worker test, e.g. rate limits, reuses the same)::

    with moto_server() as endpoint:
        env = service_env(endpoint)
        run_cli(env, "db", "init")
        with gunicorn_server(env, workers=2) as server:
            requests.get(server.url("/api/v1/health"), timeout=5)

The moto server runs in a thread of the pytest process and so shares moto's in-memory backends
with ``mock_aws``, which resets them when it starts and stops: a module that keeps a moto server
running must not use the ``aws``/``app`` fixtures of ``tests/conftest.py`` meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
HEALTH_PATH = "/api/v1/health"
LOOPBACK = "127.0.0.1"

# Environment variables that would point a child process at real AWS or at another setup.
INHERITED_DROPPED_PREFIXES = ("AWS_", "JWT_", "DYNAMODB_", "APP_ENV", "LOCAL_DATA_DIR", "GUNICORN_CMD_ARGS")

# The access log line gunicorn writes per request (see ``gunicorn_server``): worker pid,
# the X-Request-Id the client sent, the status, and the request line.
ACCESS_LOG_FORMAT = '%(p)s %({x-request-id}i)s %(s)s "%(r)s"'
_ACCESS_LINE = re.compile(r"^<?(?P<pid>\d+)>? (?P<request_id>\S+) (?P<status>\d{3}) ")


def free_port() -> int:
    """A TCP port on the loopback interface that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


class _OneRequestAtATime:
    """WSGI middleware: real DynamoDB applies each request atomically; moto does not lock its tables,
    so under concurrent requests its ``ADD`` can lose updates. Serializing requests restores the
    per-request atomicity our conditional writes rely on."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        with self._lock:
            return list(self._app(environ, start_response))


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's server (DynamoDB and the rest) on a free loopback port; yield its endpoint URL."""
    app = _OneRequestAtATime(DomainDispatcherApplication(create_backend_app))
    server = make_server(LOOPBACK, 0, app, threaded=True, request_handler=MotoRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        url = f"http://{host}:{port}"
        # moto keeps its data per process, not per server: start every server empty.
        requests.post(f"{url}/moto-api/reset", timeout=10).raise_for_status()
        yield url
    finally:
        server.shutdown()
        thread.join(timeout=10)


def service_env(
    dynamodb_endpoint: str,
    *,
    jwt_secret: str | None = None,
    table_prefix: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The environment of a service process (CLI or gunicorn) talking to ``dynamodb_endpoint``.

    A fresh 48-byte signing secret and a unique table prefix are made unless given, so every
    process sharing this env trusts the same tokens and no two test runs share tables.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(INHERITED_DROPPED_PREFIXES)}
    env.update(
        APP_ENV="test",
        JWT_SECRET_KEY=jwt_secret or secrets.token_urlsafe(48),
        AWS_ENDPOINT_URL_DYNAMODB=dynamodb_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        # No shared config or credentials file of the machine may add a profile or an endpoint.
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        DYNAMODB_TABLE_PREFIX=table_prefix or f"it-{secrets.token_hex(4)}-",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def run_cli(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run ``flask --app app <args>`` in a subprocess; the result has text stdout and stderr."""
    return subprocess.run(
        [str(BIN / "flask"), "--app", "app", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def check_cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    """Run a CLI command that must succeed; return its stdout (fails the test with its output otherwise)."""
    result = run_cli(env, *args, stdin=stdin)
    assert result.returncode == 0, (
        f"flask {' '.join(args)} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result.stdout


@dataclass
class GunicornServer:
    """A running gunicorn and where to find its output."""

    process: subprocess.Popen
    base_url: str
    workers: int
    stderr_path: Path
    access_log_path: Path

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return f"{self.base_url}{path}"

    def stderr(self) -> str:
        """Everything gunicorn (master and workers) wrote to stderr so far."""
        return self.stderr_path.read_text(errors="replace")

    def worker_pids(self) -> set[int]:
        """The pids of the workers the master has booted so far."""
        return {int(pid) for pid in re.findall(r"Booting worker with pid: (\d+)", self.stderr())}

    def pids_by_request_id(self, request_ids: Sequence[str], timeout: float = 5) -> dict[str, int]:
        """Which worker answered each request sent with one of these ``X-Request-Id`` headers.

        Gunicorn logs a request just after sending its response, so this waits (bounded) for
        every line to appear; a missing one fails the test.
        """
        wanted = set(request_ids)
        deadline = time.monotonic() + timeout
        while True:
            found: dict[str, int] = {}
            for line in self.access_log_path.read_text(errors="replace").splitlines():
                match = _ACCESS_LINE.match(line)
                if match and match["request_id"] in wanted:
                    found[match["request_id"]] = int(match["pid"])
            if set(found) == wanted or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        missing = wanted - set(found)
        assert not missing, f"no access log line for requests {sorted(missing)}:\n{self.access_log_path.read_text()}"
        return found


def from_every_worker(
    server: GunicornServer, send: Callable[[dict[str, str]], requests.Response], batch: int = 6, rounds: int = 10
) -> list[requests.Response]:
    """Send concurrent batches of a request until every worker has answered at least one; all responses.

    ``send`` gets the extra headers to send (an ``X-Request-Id`` the access log ties to a worker).
    """
    responses: list[requests.Response] = []
    answered_by: dict[str, int] = {}
    with ThreadPoolExecutor(max_workers=batch) as pool:
        for _ in range(rounds):
            request_ids = [uuid.uuid4().hex for _ in range(batch)]
            responses += pool.map(lambda request_id: send({"X-Request-Id": request_id}), request_ids)
            answered_by.update(server.pids_by_request_id(request_ids))
            if set(answered_by.values()) >= server.worker_pids():
                break
    assert set(answered_by.values()) == server.worker_pids(), (
        f"only workers {set(answered_by.values())} answered of {server.worker_pids()}"
    )
    return responses


@contextlib.contextmanager
def gunicorn_server(
    env: dict[str, str],
    *,
    workers: int = 2,
    extra_args: Sequence[str] = (),
    startup_timeout: float = 20,
    stop_timeout: float = 10,
) -> Iterator[GunicornServer]:
    """Serve ``app:app`` with gunicorn on a free loopback port until the block ends.

    Yields once ``GET /api/v1/health`` answers 200 and every worker has booted. On exit the
    master gets SIGTERM (a graceful stop of its workers); if it has not exited after
    ``stop_timeout`` seconds, its process group (master and workers) is killed.
    """
    with tempfile.TemporaryDirectory(prefix="gunicorn-it-") as tmp:
        stderr_path = Path(tmp) / "stderr.log"
        access_log_path = Path(tmp) / "access.log"
        access_log_path.touch()
        port = free_port()
        command = [
            str(BIN / "gunicorn"),
            "--bind",
            f"{LOOPBACK}:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            str(access_log_path),
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            *extra_args,
            "app:app",
        ]
        with stderr_path.open("wb") as stderr_file:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stderr_file,
                stderr=subprocess.STDOUT,
                # Its own process group, so teardown can reach the workers too.
                start_new_session=True,
            )
        server = GunicornServer(process, f"http://{LOOPBACK}:{port}", workers, stderr_path, access_log_path)
        try:
            _wait_until_ready(server, startup_timeout)
            yield server
        finally:
            _stop(process, stop_timeout)


def _wait_until_ready(server: GunicornServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"gunicorn exited with {server.process.returncode} before serving; its stderr:\n{server.stderr()}",
                pytrace=False,
            )
        try:
            response = requests.get(server.url(HEALTH_PATH), timeout=1)
            if response.status_code == 200 and len(server.worker_pids()) >= server.workers:
                return
            last_error = f"GET {HEALTH_PATH} -> {response.status_code}, {len(server.worker_pids())} worker(s) booted"
        except requests.RequestException as exc:
            last_error = f"{type(exc).__name__}: {exc}"
        time.sleep(0.1)
    pytest.fail(
        f"gunicorn did not answer GET {HEALTH_PATH} with 200 within {timeout:g} s ({last_error}); "
        f"its stderr:\n{server.stderr()}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen, timeout: float) -> None:
    if process.poll() is not None:
        return
    # SIGTERM: the master stops its workers gracefully and exits after them.
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        # The master is still ours (not reaped), so its process group is too: kill master and workers.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
