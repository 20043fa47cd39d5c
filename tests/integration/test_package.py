"""The Lambda zip as Zappa builds it: lean, and it serves the login flow from an empty folder."""

from __future__ import annotations

import subprocess
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.lambda_events import rest_v1
from tests.integration.lambda_runner import PASSWORD, header, lambda_env, lambda_instance, response_json
from tests.integration.servers import ROOT, moto_server

pytestmark = pytest.mark.slow

ZIP = ROOT / "dist" / "nativemessage-production.zip"
# Top-level names that must never ship: tests and dev tools, and what the Lambda runtime provides.
FORBIDDEN = (
    "tests",
    "moto",
    "pytest",
    "_pytest",
    "boto3",
    "botocore",
    "s3transfer",
    "ruff",
    "bench",
    ".venv",
    ".mypy_cache",
    "mypy",
)


@pytest.fixture(scope="module")
def package() -> Path:
    """``make package`` (a runtime-only venv, then ``zappa package production``)."""
    result = subprocess.run(["make", "package"], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return ZIP


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def lambda_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python with only boto3 installed: what the python3.11 Lambda runtime offers besides the zip."""
    home = tmp_path_factory.mktemp("runtime")
    venv.create(home, with_pip=True)
    requirement = next(
        line for line in (ROOT / "requirements.txt").read_text().splitlines() if line.startswith("boto3==")
    )
    subprocess.run([str(home / "bin" / "pip"), "install", "--quiet", requirement], check=True, timeout=600)
    return home / "bin" / "python"


def test_the_zip_holds_no_tests_dev_tools_or_sdk(package: Path) -> None:
    with zipfile.ZipFile(package) as archive:
        names = archive.namelist()
    top_level = {name.split("/")[0] for name in names}
    assert {"handler.py", "zappa_settings.py", "app.pyc", "handlers", "models", "flask", "zappa"} <= top_level
    for forbidden in FORBIDDEN:
        assert forbidden not in top_level, forbidden
    assert not [name for name in names if "/tests/" in f"/{name}" and name.startswith(("handlers/", "models/"))]


def test_the_zip_ships_sourceless_bytecode_that_python_loads(
    package: Path, lambda_runtime: Path, tmp_path: Path
) -> None:
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "task")
    assert {"app.pyc", "handlers/api/auth.pyc", "models/store/dynamo.pyc", "flask/app.pyc"} <= names
    assert not {"app.py", "handlers/api/auth.py", "models/store/dynamo.py", "flask/app.py"} & names
    assert {"handler.py", "zappa_settings.py"} <= names  # Zappa's entry points stay sources
    loaded = subprocess.run(
        [str(lambda_runtime), "-c", "import models.roles as m; print(m.__file__, type(m.__spec__.loader).__name__)"],
        cwd=tmp_path / "task",
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert loaded[0].endswith("models/roles.pyc") and loaded[1] == "SourcelessFileLoader", loaded


def test_the_unpacked_zip_serves_the_login_flow(
    package: Path,
    endpoint: str,
    provisioned: dict[str, str],
    lambda_runtime: Path,
    tmp_path: Path,
) -> None:
    task = tmp_path / "task"
    with zipfile.ZipFile(package) as archive:
        archive.extractall(task)
    env = lambda_env(endpoint)
    env.pop("PYTHONPATH")  # nothing from the project folder: only the zip and the runtime's boto3

    with lambda_instance(task, env, python=str(lambda_runtime)) as instance:
        health, first_seconds = instance.invoke_timed(rest_v1("GET", "/api/v1/health"))
        assert health["statusCode"] == 200, instance.log()
        login = instance.invoke(
            rest_v1("POST", "/api/v1/auth/login", body={"username": "admin@acme", "password": PASSWORD})
        )
        assert login["statusCode"] == 200, instance.log()
        tokens = response_json(login)
        me = instance.invoke(
            rest_v1("GET", "/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        )
        assert me["statusCode"] == 200 and response_json(me)["username"] == "admin@acme"
        refreshed = instance.invoke(
            rest_v1("POST", "/api/v1/auth/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
        )
        assert refreshed["statusCode"] == 200 and header(refreshed, "Cache-Control") == "no-store"
        print(f"first invocation (import + app + health) from the unpacked zip: {first_seconds:.3f} s")
