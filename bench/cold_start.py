"""1. Cold start: a fresh interpreter importing ``app`` against one importing flask and boto3 and making a client.

Both are whole processes, timed from spawn to exit (what a Lambda instance pays before its first
request, less the runtime's own start), run alternately and many times; the figure is the ratio of
the medians. ``python -X importtime`` then says where each one's time goes.
"""

from __future__ import annotations

import argparse
import re
import secrets
import subprocess
from collections import Counter
from pathlib import Path

from bench.common import PYTHON, ROOT, Figure, clean_env, interleaved, median, section, spread, stopwatch

TARGET = 1.3
APP = "import app"
BASELINE = "import flask, boto3; boto3.client('dynamodb', region_name='us-east-1')"
EMPTY = "pass"
# Production settings, as on Lambda: a secret in the environment, DynamoDB storage; importing the
# app makes no AWS call (the client and the SSM secret are created on first use).
APP_SETTINGS = {"APP_ENV": "production", "JWT_SECRET_KEY": secrets.token_urlsafe(48)}
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


def _env() -> dict[str, str]:
    return clean_env(**APP_SETTINGS)


def _run(code: str, *flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, *flags, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True, check=True, timeout=120
    )


def import_costs(code: str, runs: int = 3) -> tuple[Counter, Counter]:
    """Median self time (ms) per top-level package and per module of ``code``'s imports, over ``runs``."""
    packages: list[Counter] = []
    modules: list[Counter] = []
    for _ in range(runs):
        by_package: Counter = Counter()
        by_module: Counter = Counter()
        for line in _run(code, "-X", "importtime").stderr.splitlines():
            match = _IMPORT_LINE.match(line)
            if match:
                by_package[match.group(4).split(".")[0]] += int(match.group(1)) / 1000
                by_module[match.group(4)] += int(match.group(1)) / 1000
        packages.append(by_package)
        modules.append(by_module)
    return _median_counter(packages), _median_counter(modules)


def _median_counter(counters: list[Counter]) -> Counter:
    keys = set().union(*counters)
    return Counter({key: median([counter.get(key, 0.0) for counter in counters]) for key in keys})


def loads_botocore() -> bool:
    """True if importing the app imported botocore (it should not: the client is made on first use)."""
    out = _run("import sys, app; print('botocore' in sys.modules)").stdout.strip()
    return out == "True"


def run(args: argparse.Namespace) -> list[Figure]:
    section("1. Cold start: fresh `import app` vs fresh `import flask, boto3` + one DynamoDB client")
    rounds = 5 if args.quick else 15
    for code in (APP, BASELINE, EMPTY):  # warm the page cache and the bytecode caches
        _run(code)
    samples = interleaved(
        {
            name: (lambda code=code: stopwatch(lambda: _run(code)))
            for name, code in (("app", APP), ("baseline", BASELINE), ("empty", EMPTY))
        },
        rounds,
    )
    app_s, base_s, empty_s = (median(samples[name]) for name in ("app", "baseline", "empty"))
    ratio = app_s / base_s
    print(f"   {rounds} runs each, interleaved; process wall time from spawn to exit (median, IQR):")
    print(
        f"   import app (APP_ENV=production, secret set)   {app_s * 1000:7.0f} ms  ({spread([s * 1000 for s in samples['app']])})"
    )
    print(
        f"   import flask, boto3 + boto3.client('dynamodb') {base_s * 1000:7.0f} ms  ({spread([s * 1000 for s in samples['baseline']])})"
    )
    print(f"   empty interpreter (python -c pass)             {empty_s * 1000:7.0f} ms")
    print(f"   ratio {ratio:.2f} (target <= {TARGET})")
    botocore = loads_botocore()
    print(f"   importing the app loads botocore: {'yes (it should not)' if botocore else 'no'}")

    app_packages, app_modules = import_costs(APP)
    base_packages, _ = import_costs("import flask, boto3")
    print("   -X importtime, self time by top-level package (median of 3), largest of `import app`:")
    for name, ms in app_packages.most_common(14):
        shared = f"(baseline imports it too: {base_packages[name]:.0f} ms)" if name in base_packages else ""
        print(f"     {name:24s} {ms:6.1f} ms {shared}")
    if "cryptography" in app_packages:
        print(
            "     (cryptography: PyJWT imports it when it is installed; this venv has it for moto, "
            "the Lambda zip does not)"
        )
    print("   largest in the baseline that the app does not import:")
    for name, ms in [(n, ms) for n, ms in base_packages.most_common(40) if n not in app_packages][:6]:
        print(f"     {name:24s} {ms:6.1f} ms")
    print("   the app's own modules (self time, which includes building pydantic models and routes):")
    own = [
        (n, ms)
        for n, ms in app_modules.most_common()
        if n.split(".")[0] in ("app", "config", "cli", "handlers", "models")
    ]
    for name, ms in own[:8]:
        print(f"     {name:32s} {ms:6.1f} ms")
    passed = ratio <= TARGET and not botocore
    if not passed or args.profile:
        _profile()
    return [
        Figure(
            "Cold start: `import app` / (`import flask, boto3` + DynamoDB client)",
            f"{ratio:.2f}x ({app_s * 1000:.0f} / {base_s * 1000:.0f} ms)",
            f"<= {TARGET}x",
            passed,
        )
    ]


def _profile() -> Path:
    from bench.common import PROFILES

    PROFILES.mkdir(parents=True, exist_ok=True)
    out = PROFILES / "cold_start.txt"
    subprocess.run(
        [PYTHON, "-m", "pyinstrument", "--no-color", "--no-unicode", "-i", "0.0005", "-o", str(out), "-c", APP],
        cwd=ROOT,
        env=_env(),
        check=True,
        capture_output=True,
        timeout=120,
    )
    print(f"   profile written to {out.relative_to(ROOT)}")
    return out
