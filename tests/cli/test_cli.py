"""The operator CLI (``flask --app app db|tenants|users``), run with Flask's CLI runner against moto."""

from __future__ import annotations

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient

from app import create_app
from models.passwords import verify_password
from models.repositories import Repositories
from models.store.errors import NotFound
from models.store.tables import create_tables
from tests.cli.conftest import Invoke, assert_failed
from tests.conftest import bearer, repositories_of

BOB_PASSWORD = "bob's long passphrase"
EXPECTED_TABLES = [
    "cli-fresh-accounts",
    "cli-fresh-audit_events",
    "cli-fresh-idempotency",
    "cli-fresh-messages",
    "cli-fresh-rate_limits",
    "cli-fresh-revoked_tokens",
]


def create_bob(
    cli: Invoke, *, tenant: str = "acme", username: str = "bob", role: str = "member", password: str = BOB_PASSWORD
) -> Result:
    return cli(
        "users",
        "create",
        "--tenant",
        tenant,
        "--username",
        username,
        "--role",
        role,
        "--password-stdin",
        stdin=password + "\n",
    )


# db init ------------------------------------------------------------------------------------


def test_db_init_creates_the_tables_and_is_idempotent(aws: None, jwt_secret: str) -> None:
    # Its own app and prefix: the ``app`` fixture has already made its tables.
    app = create_app({"environment": "test", "jwt_secret_key": jwt_secret, "table_prefix": "cli-fresh-"})
    runner = app.test_cli_runner()
    client = repositories_of(app).db.client
    assert client.list_tables()["TableNames"] == []

    first = runner.invoke(args=["db", "init"])
    assert first.exit_code == 0, first.output
    assert "created table cli-fresh-accounts" in first.stdout
    assert "created table cli-fresh-revoked_tokens" in first.stdout
    assert "tables ready (prefix 'cli-fresh-')" in first.stdout
    assert sorted(client.list_tables()["TableNames"]) == EXPECTED_TABLES

    second = runner.invoke(args=["db", "init"])
    assert second.exit_code == 0, second.output
    assert "created table" not in second.stdout
    assert "tables ready (prefix 'cli-fresh-')" in second.stdout
    assert sorted(client.list_tables()["TableNames"]) == EXPECTED_TABLES

    accounts = client.describe_table(TableName="cli-fresh-accounts")["Table"]
    assert accounts["TableStatus"] == "ACTIVE"
    assert [index["IndexName"] for index in accounts["GlobalSecondaryIndexes"]] == ["by_tenant"]
    ttl = client.describe_time_to_live(TableName="cli-fresh-revoked_tokens")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")


def test_db_init_leaves_existing_tables_and_data_alone(cli: Invoke, repos: Repositories) -> None:
    repos.tenants.create("keepme")
    result = cli("db", "init")
    assert result.exit_code == 0, result.output
    assert "created table" not in result.stdout
    assert repos.tenants.get("keepme").tenant_id == "keepme"


# tenants --------------------------------------------------------------------------------------


def test_tenants_create_prints_the_id_and_stores_the_limit(cli: Invoke, repos: Repositories) -> None:
    result = cli("tenants", "create", "acme", "--rate-limit", "50")
    assert result.exit_code == 0, result.output
    assert result.stdout == "acme\n"
    assert repos.tenants.get("acme").rate_limit == 50


def test_tenants_create_uses_the_default_limit(cli: Invoke, repos: Repositories) -> None:
    result = cli("tenants", "create", "Globex")
    assert result.exit_code == 0, result.output
    assert result.stdout == "globex\n"  # tenant ids are the lower-case name
    assert repos.tenants.get("globex").rate_limit == 200


@pytest.mark.parametrize("again", ["acme", "ACME"])
def test_tenants_create_twice_fails_and_keeps_the_first(cli: Invoke, repos: Repositories, again: str) -> None:
    assert cli("tenants", "create", "acme", "--rate-limit", "50").exit_code == 0
    result = cli("tenants", "create", again, "--rate-limit", "7")
    assert_failed(result, "Error: tenant 'acme' already exists")
    assert repos.tenants.get("acme").rate_limit == 50


@pytest.mark.parametrize("name", ["bad name", "acme-", "a" * 41, "under_score"])
def test_tenants_create_refuses_an_invalid_name(cli: Invoke, repos: Repositories, name: str) -> None:
    result = cli("tenants", "create", name)
    assert_failed(result, "tenant names are 1-40 characters")
    with pytest.raises(NotFound):
        repos.tenants.get(name.strip().lower())


@pytest.mark.parametrize("limit", ["0", "-1", "1000001", "many"])
def test_tenants_create_refuses_an_out_of_range_limit(cli: Invoke, repos: Repositories, limit: str) -> None:
    result = cli("tenants", "create", "acme", "--rate-limit", limit)
    assert result.exit_code == 2, result.output  # click's usage error
    assert "--rate-limit" in result.stderr
    with pytest.raises(NotFound):
        repos.tenants.get("acme")


def test_tenants_set_limit_changes_the_limit(cli: Invoke, repos: Repositories, acme: None) -> None:
    result = cli("tenants", "set-limit", "acme", "5")
    assert result.exit_code == 0, result.output
    assert result.stdout == "acme: 5 requests per minute\n"
    assert repos.tenants.get("acme").rate_limit == 5

    result = cli("tenants", "set-limit", "ACME", "60")  # names are case-insensitive
    assert result.exit_code == 0, result.output
    assert repos.tenants.get("acme").rate_limit == 60
    # Each change is in the tenant's audit log, by the operator at the command line.
    changes = repos.audit.page("acme", limit=10, action="tenant.rate_limit_changed").items
    assert [event.details for event in changes] == [{"from": 5, "to": 60}, {"from": 200, "to": 5}]
    assert changes[0].actor.auth == "cli" and changes[0].actor.username.startswith("cli:")
    assert changes[0].target_type == "tenant" and changes[0].target_id == "acme"


def test_tenants_set_limit_on_an_unknown_tenant_fails(cli: Invoke, repos: Repositories, acme: None) -> None:
    result = cli("tenants", "set-limit", "nope", "5")
    assert_failed(result, "Error: no tenant named 'nope'")
    assert repos.audit.page("acme", limit=10).items == []
    with pytest.raises(NotFound):
        repos.tenants.get("nope")
    assert repos.tenants.get("acme").rate_limit == 200


def test_tenants_set_limit_refuses_zero(cli: Invoke, repos: Repositories, acme: None) -> None:
    result = cli("tenants", "set-limit", "acme", "0")
    assert result.exit_code == 2, result.output
    assert repos.tenants.get("acme").rate_limit == 200


# users ----------------------------------------------------------------------------------------


def test_users_create_reads_the_password_from_stdin(
    cli: Invoke, repos: Repositories, client: FlaskClient, acme: None
) -> None:
    result = create_bob(cli)
    assert result.exit_code == 0, result.output
    user_id = result.stdout.strip()
    assert result.stdout == f"{user_id}\n"
    assert user_id.startswith("usr_")
    assert BOB_PASSWORD not in result.output

    bob = repos.users.find_by_username("bob")
    assert bob is not None
    assert (bob.user_id, bob.tenant_id, bob.username, bob.role, bob.disabled) == (
        user_id,
        "acme",
        "bob",
        "member",
        False,
    )
    assert bob.password_hash is not None and BOB_PASSWORD not in bob.password_hash
    assert verify_password(bob.password_hash, BOB_PASSWORD)

    login = client.post("/api/v1/auth/login", json={"username": "bob", "password": BOB_PASSWORD})
    assert login.status_code == 200, login.get_json()
    me = client.get("/api/v1/me", headers=bearer(login.get_json()["access_token"]))
    assert me.status_code == 200, me.get_json()
    assert {key: me.get_json()[key] for key in ("user_id", "username", "tenant_id", "role", "auth")} == {
        "user_id": user_id,
        "username": "bob",
        "tenant_id": "acme",
        "role": "member",
        "auth": "jwt",
    }
    wrong = client.post("/api/v1/auth/login", json={"username": "bob", "password": BOB_PASSWORD + "x"})
    assert wrong.status_code == 401


def test_users_create_accepts_a_12_character_password(cli: Invoke, repos: Repositories, acme: None) -> None:
    result = create_bob(cli, password="x" * 12)
    assert result.exit_code == 0, result.output
    bob = repos.users.find_by_username("bob")
    assert bob is not None and verify_password(bob.password_hash, "x" * 12)


def test_users_create_refuses_a_username_taken_in_another_case(cli: Invoke, repos: Repositories, acme: None) -> None:
    first = create_bob(cli)
    assert first.exit_code == 0, first.output
    assert cli("tenants", "create", "globex").exit_code == 0

    result = create_bob(cli, tenant="globex", username="BOB", role="admin", password="another long password")
    assert_failed(result, "Error: the username 'BOB' is already taken")
    bob = repos.users.find_by_username("BOB")
    assert bob is not None
    assert (bob.user_id, bob.username, bob.tenant_id, bob.role) == (first.stdout.strip(), "bob", "acme", "member")
    assert verify_password(bob.password_hash, BOB_PASSWORD)
    assert repos.users.list_for_tenant("globex") == []


def test_users_create_in_an_unknown_tenant_fails(cli: Invoke, repos: Repositories, acme: None) -> None:
    result = create_bob(cli, tenant="nope")
    assert_failed(result, "Error: no tenant named 'nope'")
    assert repos.users.find_by_username("bob") is None


def test_users_create_refuses_an_unknown_role(cli: Invoke, repos: Repositories, acme: None) -> None:
    result = create_bob(cli, role="owner")
    assert result.exit_code == 2, result.output  # click's usage error
    assert "--role" in result.stderr and "'owner'" in result.stderr
    assert repos.users.find_by_username("bob") is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        (" " * 12, "only spaces"),
        ("\x01" * 12, "control characters"),
        ("qwerty123456", "most common"),
        ("y" * 129, "128"),
    ],
)
def test_users_create_refuses_a_weak_password(
    cli: Invoke, repos: Repositories, acme: None, password: str, problem: str
) -> None:
    result = create_bob(cli, password=password)
    assert_failed(result, "Error: password:", problem)
    assert repos.users.find_by_username("bob") is None


@pytest.mark.parametrize("password", ["x" * 11, "short", ""])
def test_users_create_refuses_a_short_password(cli: Invoke, repos: Repositories, acme: None, password: str) -> None:
    result = create_bob(cli, password=password)
    assert_failed(result, "Error: password:", "12")
    assert repos.users.find_by_username("bob") is None


@pytest.mark.parametrize("username", ["bo", "bob smith", "bob/x"])
def test_users_create_refuses_an_invalid_username(cli: Invoke, repos: Repositories, acme: None, username: str) -> None:
    result = create_bob(cli, username=username)
    assert_failed(result, "Error: username:")
    assert repos.users.find_by_username(username) is None


def test_users_create_requires_password_stdin(cli: Invoke, repos: Repositories, acme: None) -> None:
    result = cli(
        "users", "create", "--tenant", "acme", "--username", "bob", "--role", "member", stdin=BOB_PASSWORD + "\n"
    )
    assert result.exit_code == 2, result.output
    assert "--password-stdin" in result.stderr
    assert repos.users.find_by_username("bob") is None


def test_commands_before_db_init_fail_with_a_clear_message(aws: None, jwt_secret: str) -> None:
    fresh = create_app({"environment": "test", "jwt_secret_key": jwt_secret, "table_prefix": "uninitialised-"})
    result = fresh.test_cli_runner().invoke(args=["tenants", "create", "acme"])
    assert_failed(result, "table is missing", "db init")
    assert "Traceback" not in result.output


def test_commands_against_an_unreachable_endpoint_fail_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch, jwt_secret: str
) -> None:
    # A closed loopback port: nothing listens there, so the connection is refused at once.
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    app = create_app({"environment": "test", "jwt_secret_key": jwt_secret})
    for args in (["db", "init"], ["tenants", "set-limit", "acme", "5"]):
        result = app.test_cli_runner().invoke(args=args)
        assert_failed(result, "DynamoDB", "AWS_ENDPOINT_URL_DYNAMODB")
        assert "Traceback" not in result.output


def test_demo_seed_creates_once_and_prints_a_password_that_logs_in(aws: None, jwt_secret: str, tmp_path) -> None:
    app = create_app({"environment": "dev", "jwt_secret_key": jwt_secret, "local_data_dir": tmp_path})
    create_tables(repositories_of(app).db)
    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo", "seed"])
    second = runner.invoke(args=["demo", "seed"])

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    password = (tmp_path / "demo-admin-password").read_text().strip()
    assert (tmp_path / "demo-admin-password").stat().st_mode & 0o777 == 0o600
    assert f"password {password!r}" in first.stdout and f"password {password!r}" in second.stdout
    assert "curl -s -X POST http://127.0.0.1:5000/api/v1/auth/login" in first.stdout
    assert len(repositories_of(app).users.list_for_tenant("demo")) == 1
    login = app.test_client().post("/api/v1/auth/login", json={"username": "admin@demo.local", "password": password})
    assert login.status_code == 200


def test_demo_seed_does_not_print_a_stale_password(aws: None, jwt_secret: str, tmp_path) -> None:
    app = create_app({"environment": "dev", "jwt_secret_key": jwt_secret, "local_data_dir": tmp_path})
    create_tables(repositories_of(app).db)
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "seed"])
    (tmp_path / "demo-admin-password").write_text("not-the-password\n")

    result = runner.invoke(args=["demo", "seed"])

    assert result.exit_code == 0
    assert "not-the-password" not in result.stdout
    assert "log in with the password you set" in result.stdout


def test_demo_commands_exist_only_in_dev(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and "No such command 'demo'" in result.output
