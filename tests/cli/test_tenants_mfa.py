"""``flask --app app tenants set-mfa NAME required|optional``: the tenant's two-factor requirement, audited."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from models.repositories import Repositories
from models.store.errors import NotFound
from tests.cli.conftest import Invoke, assert_failed
from tests.conftest import bearer


def test_set_mfa_requires_and_relaxes_two_factor_and_audits_each_change(
    cli: Invoke, repos: Repositories, acme: None
) -> None:
    result = cli("tenants", "set-mfa", "acme", "required")
    assert result.exit_code == 0, result.output
    assert result.stdout == "acme: two-factor authentication required\n"
    assert repos.tenants.get("acme").mfa_required is True

    result = cli("tenants", "set-mfa", "ACME", "optional")  # names are case-insensitive
    assert result.exit_code == 0, result.output
    assert result.stdout == "acme: two-factor authentication optional\n"
    assert repos.tenants.get("acme").mfa_required is False
    # Each change is in the tenant's audit log, by the operator at the command line.
    changes = repos.audit.page("acme", limit=10, action="tenant.mfa_requirement_changed").items
    assert [event.details for event in changes] == [
        {"from": "required", "to": "optional"},
        {"from": "optional", "to": "required"},
    ]
    assert changes[0].actor.auth == "cli" and changes[0].actor.username.startswith("cli:")
    assert changes[0].target_type == "tenant" and changes[0].target_id == "acme"


def test_the_change_is_in_the_audit_log_the_tenants_admins_read(
    cli: Invoke, client: FlaskClient, make_user, login, acme: None
) -> None:
    admin = bearer(login(make_user("admin-acme", role="admin"))["access_token"])
    assert cli("tenants", "set-mfa", "acme", "required").exit_code == 0
    listed = client.get("/api/v1/audit-events?action=tenant.mfa_requirement_changed", headers=admin)
    assert listed.status_code == 200, listed.get_json()
    [event] = listed.get_json()["items"]
    assert event["details"] == {"from": "optional", "to": "required"}
    assert event["target"] == {"type": "tenant", "id": "acme"}
    assert event["actor"]["auth"] == "cli" and event["outcome"] == "success"


def test_set_mfa_applies_to_the_next_login_at_once(cli: Invoke, client: FlaskClient, make_user, acme: None) -> None:
    bob = make_user("bob", role="member")
    credentials = {"username": bob.username, "password": bob.password}
    assert client.post("/api/v1/auth/login", json=credentials).status_code == 200
    assert cli("tenants", "set-mfa", "acme", "required").exit_code == 0
    refused = client.post("/api/v1/auth/login", json=credentials)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "mfa_enrollment_required"
    assert cli("tenants", "set-mfa", "acme", "optional").exit_code == 0
    assert client.post("/api/v1/auth/login", json=credentials).status_code == 200


def test_set_mfa_on_an_unknown_tenant_fails(cli: Invoke, repos: Repositories, acme: None) -> None:
    result = cli("tenants", "set-mfa", "nope", "required")
    assert_failed(result, "Error: no tenant named 'nope'")
    assert repos.audit.page("acme", limit=10).items == []
    with pytest.raises(NotFound):
        repos.tenants.get("nope")
    assert repos.tenants.get("acme").mfa_required is False


@pytest.mark.parametrize("requirement", ["on", "REQUIRED", "yes", ""])
def test_set_mfa_accepts_only_required_or_optional(
    cli: Invoke, repos: Repositories, acme: None, requirement: str
) -> None:
    result = cli("tenants", "set-mfa", "acme", requirement)
    assert result.exit_code == 2, result.output  # click's usage error, naming the choices
    assert "'required'" in result.stderr and "'optional'" in result.stderr
    assert repos.tenants.get("acme").mfa_required is False
    assert repos.audit.page("acme", limit=10).items == []
