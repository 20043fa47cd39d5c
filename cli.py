"""Operator commands: ``flask --app app db|tenants|users ...`` (and ``demo seed`` in dev)."""

from __future__ import annotations

import contextlib
import functools
import getpass
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask
from flask.cli import AppGroup
from pydantic import ValidationError

from handlers.web.context import repositories
from handlers.web.endpoint import validation_details
from models.accounts.inputs import NewUser
from models.audit_record import Actor, AuditEvent, Origin
from models.passwords import hash_password, verify_password
from models.store.errors import Conflict, NotFound, StoreUnavailable
from models.store.tables import create_tables
from models.tenants import DEFAULT_RATE_LIMIT, Tenant
from models.users import User

db_cli = AppGroup("db", help="DynamoDB tables.")
tenants_cli = AppGroup("tenants", help="Customer organisations.")
users_cli = AppGroup("users", help="Users of a tenant.")
demo_cli = AppGroup("demo", help="Local demo data (dev only).")

RATE_LIMIT = click.IntRange(min=1, max=1_000_000)
# The two words of ``tenants set-mfa``, also the audit event's ``from`` and ``to``.
REQUIRED = "required"
OPTIONAL = "optional"


def register_cli(app: Flask, *, include_demo: bool) -> None:
    """Attach the operator command groups to ``app`` (``demo`` only where asked: dev)."""
    for group in (db_cli, tenants_cli, users_cli):
        app.cli.add_command(group)
    if include_demo:
        app.cli.add_command(demo_cli)


def store_errors_fail_cleanly(command: Callable[..., None]) -> Callable[..., None]:
    """Turn an unreachable or uninitialised DynamoDB into a one-line error and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            command(*args, **kwargs)
        except StoreUnavailable as exc:
            fail(f"DynamoDB: {exc} (check AWS_ENDPOINT_URL_DYNAMODB, credentials and region)")

    return wrapper


def fail(message: str) -> NoReturn:
    """Print an error to stderr and exit non-zero."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


@db_cli.command("init")
@store_errors_fail_cleanly
def db_init() -> None:
    """Create the DynamoDB tables if missing (idempotent)."""
    repos = repositories()
    created = create_tables(repos.db)
    for name in created:
        click.echo(f"created table {name}")
    click.echo(f"tables ready (prefix {repos.settings.table_prefix!r})")


@tenants_cli.command("create")
@click.argument("name")
@click.option(
    "--rate-limit", type=RATE_LIMIT, default=DEFAULT_RATE_LIMIT, show_default=True, help="Requests per minute."
)
@store_errors_fail_cleanly
def tenants_create(name: str, rate_limit: int) -> None:
    """Create a tenant and print its id."""
    try:
        tenant = repositories().tenants.create(name, rate_limit)
    except ValueError as exc:
        fail(str(exc))
    except Conflict as exc:
        fail(str(exc))
    click.echo(tenant.tenant_id)


@tenants_cli.command("set-limit")
@click.argument("name")
@click.argument("limit", type=RATE_LIMIT)
@store_errors_fail_cleanly
def tenants_set_limit(name: str, limit: int) -> None:
    """Change a tenant's requests-per-minute limit."""
    repos = repositories()
    try:
        before = repos.tenants.get(name.strip().lower())
        event = tenant_setting_changed(before, "tenant.rate_limit_changed", before.rate_limit, limit)
        tenant = repos.tenants.set_rate_limit(before.tenant_id, limit, audit=[event])
    except NotFound:
        fail(f"no tenant named {name!r}")
    click.echo(f"{tenant.tenant_id}: {tenant.rate_limit} requests per minute")


@tenants_cli.command("set-mfa")
@click.argument("name")
@click.argument("requirement", type=click.Choice([REQUIRED, OPTIONAL]))
@store_errors_fail_cleanly
def tenants_set_mfa(name: str, requirement: str) -> None:
    """Require two-factor authentication of every user of a tenant, or make it optional."""
    repos = repositories()
    required = requirement == REQUIRED
    try:
        before = repos.tenants.get(name.strip().lower())
        was = _mfa_requirement(before.mfa_required)
        event = tenant_setting_changed(before, "tenant.mfa_requirement_changed", was, requirement)
        tenant = repos.tenants.set_mfa_required(before.tenant_id, required, audit=[event])
    except NotFound:
        fail(f"no tenant named {name!r}")
    click.echo(f"{tenant.tenant_id}: two-factor authentication {_mfa_requirement(tenant.mfa_required)}")


def _mfa_requirement(required: bool) -> str:
    return REQUIRED if required else OPTIONAL


@users_cli.command("create")
@click.option("--tenant", "tenant_name", required=True, help="Tenant name.")
@click.option("--username", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "member", "viewer"]))
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from standard input.")
@store_errors_fail_cleanly
def users_create(tenant_name: str, username: str, role: str, password_stdin: bool) -> None:
    """Create a user; the password is read from standard input, never from the command line."""
    password = sys.stdin.readline().rstrip("\r\n")
    user = create_user(tenant_name, username, password, role)
    click.echo(user.user_id)


def cli_event(tenant_id: str, action: str, **fields: Any) -> AuditEvent:
    """An audit event by the operator at this machine's command line."""
    try:
        operator = getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment (a container without one)
        operator = "unknown"
    return repositories().audit.event(
        tenant_id, action, Actor(username=f"cli:{operator}", auth="cli"), Origin(), **fields
    )


def tenant_setting_changed(tenant: Tenant, action: str, was: object, becomes: object) -> AuditEvent:
    """The operator's audit event for one setting of ``tenant`` changing from ``was`` to ``becomes``."""
    details = {"from": was, "to": becomes}
    return cli_event(tenant.tenant_id, action, target_type="tenant", target_id=tenant.tenant_id, details=details)


def create_user(tenant_name: str, username: str, password: str, role: str, password_file: Path | None = None) -> User:
    """Validate and create a user with the same rules as the API and the dashboard, or exit with a clear message.

    With ``password_file``, the password is saved there (owner-only) once the user exists.
    """
    repos = repositories()
    try:
        NewUser.model_validate({"username": username, "password": password, "role": role})
    except ValidationError as exc:
        fail("; ".join(f"{d['field']}: {d['message']}" for d in validation_details(exc)))
    try:
        tenant = repos.tenants.get(tenant_name.strip().lower())
    except NotFound:
        fail(f"no tenant named {tenant_name!r}")
    try:
        created = cli_event(
            tenant.tenant_id, "user.created", target_type="user", details={"role": role, "username": username}
        )
        user = repos.users.create(tenant.tenant_id, username, hash_password(password), role, audit=[created])
    except Conflict:
        fail(f"the username {username!r} is already taken")
    if password_file is not None:
        password_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
    return user


@demo_cli.command("seed")
@click.option("--tenant", "tenant_name", default="demo", show_default=True)
@click.option("--username", default="admin@demo.local", show_default=True)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=5000, show_default=True, help="Where the API will listen."
)
@store_errors_fail_cleanly
def demo_seed(tenant_name: str, username: str, port: int) -> None:
    """Create a demo tenant and admin if absent; print how to log in."""
    repos = repositories()
    password_file = repos.settings.local_data_dir / "demo-admin-password"
    with contextlib.suppress(Conflict):
        repos.tenants.create(tenant_name)
    user = repos.users.find_by_username(username)
    if user is None:
        user = create_user(tenant_name, username, secrets.token_urlsafe(12), "admin", password_file=password_file)
    saved = password_file.read_text().strip() if password_file.exists() else ""
    # Print the saved password only while it still logs in (it may have been changed or reset).
    if not verify_password(user.password_hash, saved):
        click.echo(f"\nDemo admin {username!r} exists; log in with the password you set for it.")
        return
    click.echo(
        f"\nDemo tenant {tenant_name!r}, admin {username!r}, password {saved!r}.\n"
        "Log in:\n"
        f"  curl -s -X POST http://127.0.0.1:{port}/api/v1/auth/login -H 'Content-Type: application/json' \\\n"
        f'       -d \'{{"username": "{username}", "password": "{saved}"}}\'\n'
    )
