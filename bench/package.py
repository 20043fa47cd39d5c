"""6. The Lambda package: zip size, unzipped size, runtime packages, first invocation from the zip.

The zip is ``make package``'s (rebuilt here when missing or older than requirements.txt, or with
``--repackage``; that needs PyPI and takes about 30 s; a zip older than the code is reported). The first invocation is driven as ``tests/integration/test_package.py``
drives it: the unpacked zip in a process of a Python holding only boto3 (what the python3.11 Lambda
runtime adds), fed one API Gateway event, with AWS pointed at moto's server, ``/var/task`` read-only
as on Lambda (``PYTHONDONTWRITEBYTECODE=1``). The zip ships sourceless bytecode
(``scripts/compile_zip.py``); for comparison the same is timed from the zip as Zappa made it, with
sources only (``dist/*-sources.zip``, kept by ``make package``), whose every module is compiled at
each cold start.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
import venv
import zipfile
from pathlib import Path

from bench.common import PYTHON, ROOT, Figure, median, section

ZIP = ROOT / "dist" / "nativemessage-production.zip"
SOURCE_ZIP = ROOT / "dist" / "nativemessage-production-sources.zip"
TARGET_RATIO = 0.5
RUNTIME = ROOT / ".venv-bench-runtime"  # git-ignored (.venv-*/) and excluded from the zip (.venv*)
# AWS Lambda's quotas for a .zip deployment package.
ZIP_LIMIT_MB = 50
UNZIPPED_LIMIT_MB = 250
MB = 1024 * 1024


def run(args: argparse.Namespace) -> list[Figure]:
    section("6. Package: the Lambda zip, and the first invocation of its handler")
    built = _ensure_zip(getattr(args, "repackage", False))
    if not built:
        return [Figure("Package: Lambda zip", "not built (make package failed; see above)", "built", False)]
    with zipfile.ZipFile(ZIP) as archive:
        infos = archive.infolist()
    zipped, unzipped = ZIP.stat().st_size, sum(info.file_size for info in infos)
    top_level = sorted({info.filename.split("/")[0] for info in infos})
    packages = sorted(name.removesuffix(".dist-info") for name in top_level if name.endswith(".dist-info"))
    print(
        f"   {ZIP.relative_to(ROOT)}: {zipped / MB:.1f} MB zipped, {unzipped / MB:.1f} MB unzipped, {len(infos)} files"
    )
    print(f"   {len(packages)} runtime packages (distributions): {', '.join(packages)}")
    unexpected = [name for name in top_level if name.startswith(".")]
    if unexpected:
        print(f"   note: hidden top-level entries in the zip (not needed at run time): {unexpected}")
    compiled, python_note = _first_invocation(ZIP, quick=args.quick)
    first, _note = _first_invocation(SOURCE_ZIP, quick=args.quick)
    print(f"   first invocation (process start, import, app, GET /health), {python_note}:")
    print(f"     sources only (as Zappa zips them: every module compiled)  {first * 1000:6.0f} ms (median)")
    print(f"     as deployed (sourceless bytecode)                        {compiled * 1000:6.0f} ms (median)")
    return [
        Figure(
            "Package: Lambda zip, zipped / unzipped",
            f"{zipped / MB:.1f} MB / {unzipped / MB:.1f} MB",
            f"<= {ZIP_LIMIT_MB} / {UNZIPPED_LIMIT_MB} MB (Lambda)",
            zipped <= ZIP_LIMIT_MB * MB and unzipped <= UNZIPPED_LIMIT_MB * MB,
        ),
        Figure("Package: runtime packages in the zip", f"{len(packages)}", "report", None),
        Figure(
            "Package: first invocation from the unpacked zip, with bytecode vs sources only",
            f"{compiled / first:.2f} ({compiled * 1000:.0f} ms / {first * 1000:.0f} ms)",
            f"<= {TARGET_RATIO}",
            compiled / first <= TARGET_RATIO,
        ),
    ]


def _ensure_zip(repackage: bool) -> bool:
    requirements = ROOT / "requirements.txt"
    if not repackage and ZIP.exists() and ZIP.stat().st_mtime >= requirements.stat().st_mtime:
        age = (time.time() - ZIP.stat().st_mtime) / 60
        print(f"   using {ZIP.relative_to(ROOT)}, built {age:.0f} min ago (rebuilt when older than requirements.txt)")
        newer = [path for path in _packaged_sources() if path.stat().st_mtime > ZIP.stat().st_mtime]
        if newer:
            print(
                f"   note: {len(newer)} packaged source file(s) changed since (e.g. {newer[0].relative_to(ROOT)}): "
                "the figures below are of the zip's code; `make bench BENCH_ARGS=--repackage` rebuilds it"
            )
        return True
    print("   building the zip with `make package` (a runtime-only venv, then zappa package; needs PyPI)...")
    done = subprocess.run(["make", "package"], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0 or not ZIP.exists():
        print(done.stdout[-2000:] + done.stderr[-2000:])
        return False
    return True


def _packaged_sources() -> list[Path]:
    """The project's files that ``make package`` puts in the zip."""
    files = [ROOT / name for name in ("app.py", "cli.py", "config.py", "zappa_settings.json")]
    for folder in ("handlers", "models"):  # the dashboard's templates and static files are under handlers/
        files += [path for path in (ROOT / folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts]
    return [path for path in files if path.exists()]


def _runtime_python() -> tuple[str, str]:
    """A Python holding only the pinned boto3, made once; the project venv's if that cannot be made."""
    requirement = next(
        line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("boto3==")
    )
    marker = RUNTIME / "bench-requirement.txt"
    python = RUNTIME / "bin" / "python"
    if not (python.exists() and marker.exists() and marker.read_text() == requirement):
        print(f"   making {RUNTIME.relative_to(ROOT)} (a Python with only {requirement}, as on Lambda)...")
        try:
            venv.create(RUNTIME, with_pip=True, clear=True)
            subprocess.run(
                [str(RUNTIME / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", requirement],
                check=True,
                timeout=600,
                capture_output=True,
            )
            marker.write_text(requirement)
        except (OSError, subprocess.SubprocessError) as exc:
            print(f"   could not make it ({exc}); using the project venv's Python instead")
            return PYTHON, "on the project venv's Python (its extra packages may be imported)"
    return str(python), f"on a Python with only {requirement}"


def _first_invocation(zip_path: Path, *, quick: bool) -> tuple[float, str]:
    from tests.integration.lambda_events import rest_v1
    from tests.integration.lambda_runner import lambda_env, lambda_instance
    from tests.integration.servers import moto_server

    python, note = _runtime_python()
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="bench-lambda-") as tmp, moto_server() as endpoint:
        task = Path(tmp) / "task"
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(task)
        env = lambda_env(endpoint)
        env.pop("PYTHONPATH")  # nothing from the project folder: only the zip and the runtime's boto3
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # /var/task is read-only on Lambda

        def first_invocation() -> float:
            started = time.perf_counter()
            with lambda_instance(task, env, python=python) as instance:
                response, _seconds = instance.invoke_timed(rest_v1("GET", "/api/v1/health"))
                elapsed = time.perf_counter() - started
                assert response["statusCode"] == 200, instance.log()[-2000:]
            return elapsed

        return median([first_invocation() for _ in range(repeats)]), note
