"""`make run`'s script for real: local endpoint, tables, demo admin, API; data survives a restart."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.servers import _INHERITED_DROPPED_PREFIXES, LOOPBACK, ROOT, free_port

pytestmark = pytest.mark.slow

SCRIPT = ROOT / "scripts" / "run_local.sh"
PASSWORD_LINE = re.compile(r"admin '(?P<username>[^']+)', password '(?P<password>[^']+)'")
HAS_NODE = shutil.which("node") is not None and shutil.which("npm") is not None


def group_is_gone(pgid: int) -> bool:
    """True when no process of the group is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


@contextlib.contextmanager
def local_run(data_dir: Path, log: Path) -> Iterator[str]:
    """Start scripts/run_local.sh on free ports; yield the API's base URL; stop it with SIGTERM."""
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(_INHERITED_DROPPED_PREFIXES)}
    env.update(LOCAL_DATA_DIR=str(data_dir), DYNAMODB_PORT=str(free_port()), PORT=str(port))
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(SCRIPT)], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://{LOOPBACK}:{port}"
    try:
        deadline = time.monotonic() + 180  # the first run installs dynalite from the npm registry
        while True:
            assert process.poll() is None, f"run_local.sh exited early:\n{log.read_text()}"
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{base}/api/v1/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the API did not come up:\n{log.read_text()}"
            time.sleep(0.5)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            pytest.fail(f"run_local.sh did not stop on SIGTERM:\n{log.read_text()}")
        # Everything it started (dynalite or moto, flask) shares its process group and must be gone.
        deadline = time.monotonic() + 10
        while not group_is_gone(process.pid):
            if time.monotonic() > deadline:
                os.killpg(process.pid, signal.SIGKILL)
                pytest.fail("run_local.sh left processes running after it stopped")
            time.sleep(0.2)


def printed_login(log: Path) -> tuple[str, str]:
    match = PASSWORD_LINE.search(log.read_text())
    assert match, log.read_text()
    return match["username"], match["password"]


def login(base: str, username: str, password: str) -> requests.Response:
    return requests.post(f"{base}/api/v1/auth/login", json={"username": username, "password": password}, timeout=10)


def test_make_run_serves_the_demo_admin_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with local_run(data, tmp_path / "first.log") as base:
        username, password = printed_login(tmp_path / "first.log")
        first = login(base, username, password)
        assert first.status_code == 200, first.text
        me = requests.get(
            f"{base}/api/v1/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"}, timeout=10
        )
        assert me.status_code == 200 and me.json()["role"] == "admin"
        created = requests.post(
            f"{base}/api/v1/users",
            json={"username": "bob", "password": "a long enough password", "role": "member"},
            headers={"Authorization": f"Bearer {first.json()['access_token']}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
    assert "created table" in (tmp_path / "first.log").read_text()

    if not HAS_NODE:
        pytest.skip("no Node.js here: make run fell back to moto's in-memory server, which does not persist")
    with local_run(data, tmp_path / "second.log") as base:
        second_log = (tmp_path / "second.log").read_text()
        assert "created table" not in second_log and "dynalite" in second_log
        assert printed_login(tmp_path / "second.log") == (username, password)
        # bob was created through the API in the first run: he exists only if the data persisted.
        assert login(base, "bob", "a long enough password").status_code == 200
