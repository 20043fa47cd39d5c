"""What every benchmark shares: paths, a clean environment, interleaved timing, the result rows."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
PROFILES = ROOT / "bench" / "profiles"

# Variables that would point a child process at real AWS, another setup or another secret.
_DROPPED_PREFIXES = ("AWS_", "JWT_", "DYNAMODB_", "APP_ENV", "LOCAL_DATA_DIR", "RATELIMIT_", "GUNICORN_CMD_ARGS")


@dataclass
class Figure:
    """One row of the final table: what was measured, its value, its target and whether it holds."""

    name: str
    measured: str
    target: str
    passed: bool | None  # None: reported only, no target

    @property
    def result(self) -> str:
        if self.passed is None:
            return "info"
        return "PASS" if self.passed else "FAIL"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without AWS/app settings, with fake credentials and no AWS config file.

    Nothing started with it can reach real AWS by accident: there are no real credentials, and
    every benchmark that talks to DynamoDB points it at moto.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith(_DROPPED_PREFIXES)}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",  # noqa: S106 - moto's fake credentials
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def interleaved(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call each measurement once per round, alternating the order, so drift hits all of them alike."""
    samples: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for index in range(rounds):
        for name in names if index % 2 == 0 else reversed(names):
            samples[name].append(runs[name]())
    return samples


def median(values: list[float]) -> float:
    """The median (robust to the other processes of a shared 2-core machine)."""
    return statistics.median(values)


def spread(values: list[float]) -> str:
    """The interquartile range of ``values`` as text, to show how noisy a figure was."""
    if len(values) < 4:
        return f"{min(values):.3g}..{max(values):.3g}"
    quartiles = statistics.quantiles(values, n=4)
    return f"{quartiles[0]:.3g}..{quartiles[2]:.3g}"


def stopwatch(action: Callable[[], object]) -> float:
    """Seconds ``action`` took."""
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def section(title: str) -> None:
    """Print a benchmark's heading."""
    print(f"\n== {title} ==", flush=True)


def write_profile(name: str, text: str) -> Path:
    """Save a profile's text under bench/profiles/ and say where."""
    PROFILES.mkdir(parents=True, exist_ok=True)
    path = PROFILES / name
    path.write_text(text)
    print(f"   profile written to {path.relative_to(ROOT)}", flush=True)
    return path


def run_worker(module: str, args: list[str], env: dict[str, str], timeout: float = 900) -> tuple[dict, str]:
    """Run ``python -m module --worker ARGS`` in a fresh interpreter; its JSON answer and its stderr.

    The worker's stderr (the app's JSON log lines) goes to a file, never to the terminal.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        log_path = Path(tmp) / "stderr.log"
        with log_path.open("w") as log:
            done = subprocess.run(
                [PYTHON, "-m", module, "--worker", *args],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                timeout=timeout,
                check=False,
            )
        log_text = log_path.read_text(errors="replace")
    if done.returncode != 0:
        print(log_text[-4000:])
        raise RuntimeError(f"{module} worker exited {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1]), log_text
