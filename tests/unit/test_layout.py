"""The architecture's import rules, checked on the source: layers, no borrowed private names, no boto3 in handlers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [
        ROOT / "app.py",
        ROOT / "config.py",
        ROOT / "cli.py",
        *(ROOT / "handlers").rglob("*.py"),
        *(ROOT / "models").rglob("*.py"),
    ]
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for every import statement, including deferred ones."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_the_sources_are_found():
    names = {module_name(path) for path in SOURCES}
    assert {"app", "config", "cli", "handlers.api.auth", "models.accounts.credentials", "models.store.dynamo"} <= names


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: module_name(path))
def test_each_layer_imports_only_the_layers_below_it(path):
    name = module_name(path)
    forbidden = {
        "config": ("models", "handlers", "cli", "app", "flask"),
        "models": ("handlers", "cli", "app", "flask", "werkzeug", "flask_jwt_extended", "flask_limiter"),
        "handlers": ("cli", "app", "boto3", "botocore"),
        "cli": ("app",),
    }.get(name.split(".")[0], ())
    offending = [module for module, _ in imports(path) if module.split(".")[0] in forbidden]
    assert offending == [], f"{name} imports {offending}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: module_name(path))
def test_no_module_imports_another_modules_private_name(path):
    private = [
        f"{module}.{imported}"
        for module, names in imports(path)
        for imported in names
        if imported.startswith("_") and module != "__future__"
    ]
    assert private == [], f"{module_name(path)} imports {private}"


@pytest.mark.parametrize(
    "path",
    [ROOT / "cli.py", *(ROOT / "handlers" / "dashboard").rglob("*.py")],
    ids=lambda path: module_name(path),
)
def test_the_dashboard_and_the_cli_never_import_an_api_route_module(path):
    routes = {"handlers.api", "handlers.api.auth", "handlers.api.users", "handlers.api.api_keys"}
    routes |= {"handlers.api.messages", "handlers.api.health", "handlers.api.passwords"}
    routes |= {"handlers.api.mfa"}
    offending = [module for module, _ in imports(path) if module in routes]
    assert offending == [], f"{module_name(path)} imports {offending}"


def test_the_readme_stays_a_front_door_of_at_most_10_kb():
    # The rest belongs in docs/: the README is what a new user reads first, whole.
    assert (ROOT / "README.md").stat().st_size <= 10_000
