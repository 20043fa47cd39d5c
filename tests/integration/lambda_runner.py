"""A Lambda instance for tests: a process running Zappa's handler, fed API Gateway events."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.servers import ROOT, service_env

DRIVER = Path(__file__).with_name("lambda_driver.py")
PASSWORD = "correct horse battery staple"


@dataclass
class LambdaInstance:
    """One warm Lambda process; ``invoke`` sends an event and returns the handler's answer."""

    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        """What the process wrote to stderr (its logs) so far."""
        return self.log_path.read_text(errors="replace")

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """The handler's response to ``event``."""
        return self.invoke_timed(event)[0]

    def invoke_timed(self, event: dict[str, Any]) -> tuple[dict[str, Any], float]:
        """The handler's response to ``event`` and the seconds the handler took."""
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(event) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"the Lambda process died:\n{self.log()}"
        answer = json.loads(line)
        return answer["response"], answer["seconds"]


@contextlib.contextmanager
def lambda_instance(directory: Path, env: dict[str, str], python: str = sys.executable) -> Iterator[LambdaInstance]:
    """Start a Lambda-like process whose code is ``directory`` (handler.py, zappa_settings.py, ...)."""
    # Logs go to a file: an unread pipe would fill up and block the process.
    log_path = Path(tempfile.mkstemp(prefix="lambda-", suffix=".log")[1])
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [python, str(DRIVER), str(directory)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        yield LambdaInstance(process, log_path)
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def zappa_task_dir(target: Path, stage: str = "production") -> Path:
    """What ``zappa package`` puts beside the app: handler.py and the generated zappa_settings.py."""
    from zappa import handler as zappa_handler
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    target.mkdir(parents=True, exist_ok=True)
    (target / "zappa_settings.py").write_text(cli.get_zappa_settings_string())
    shutil.copy(zappa_handler.__file__, target / "handler.py")
    return target


def response_json(response: dict[str, Any]) -> Any:
    """The decoded JSON body of a handler response."""
    return json.loads(response["body"])


def header(response: dict[str, Any], name: str) -> str | None:
    """A response header, case-insensitively."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    return None


def lambda_env(endpoint: str) -> dict[str, str]:
    """The process environment of a Lambda instance: AWS reached through moto's server only."""
    env = service_env(endpoint, table_prefix="nativemessage-production-")
    # Zappa's settings set APP_ENV=production and the SSM parameter: the secret comes from "SSM".
    for name in ("APP_ENV", "JWT_SECRET_KEY"):
        env.pop(name, None)
    env["AWS_ENDPOINT_URL"] = endpoint
    env["PYTHONPATH"] = str(ROOT)
    return env
