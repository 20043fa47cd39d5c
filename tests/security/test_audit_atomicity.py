"""No change without its audit record, no record without its change (issue 15), on DynamoDB's real transactions.

moto applies a transaction's actions one by one, so these run on DynamoDB Local (make test's second pass).
A fault is injected into the audit record's own write inside the transaction: DynamoDB cancels the
whole transaction, and the change must not have happened either.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ON_DYNAMODB_LOCAL, assert_error

pytestmark = [
    pytest.mark.dynamodb_local,
    pytest.mark.skipif(
        not ON_DYNAMODB_LOCAL,
        reason="needs DynamoDB's atomic transactions (moto's are not): make test's DynamoDB Local pass",
    ),
]


@pytest.fixture
def audit_write_refused(repos):
    """Make every audit record's Put in a transaction fail its condition, as a fault inside DynamoDB would."""
    audit_table = repos.db.table_name("audit_events")

    def sabotage(params: dict[str, Any], **_: Any) -> None:
        for action in params.get("TransactItems", []):
            put = action.get("Put")
            if put and put["TableName"] == audit_table:
                put["ConditionExpression"] = "attribute_exists(event_id)"  # the new event never exists

    events = repos.db.client.meta.events
    events.register("before-parameter-build.dynamodb.TransactWriteItems", sabotage)
    yield
    events.unregister("before-parameter-build.dynamodb.TransactWriteItems", sabotage)


def recorded(repos, action: str) -> list:
    return repos.audit.page("acme", limit=100, action=action).items


def test_a_role_change_whose_record_fails_does_not_happen(client, repos, admin, make_user, audit_write_refused):
    maria = make_user("maria", role="member")
    response = client.patch(f"/api/v1/users/{maria.user_id}", json={"role": "viewer"}, headers=admin)
    assert_error(response, 409, "conflict")
    assert repos.users.find_by_username("maria").role == "member"
    assert recorded(repos, "user.role_changed") == []


def test_a_user_whose_record_fails_is_not_created(client, repos, admin, audit_write_refused):
    body = {"username": "ghost", "password": "a long enough password", "role": "member"}
    assert_error(client.post("/api/v1/users", json=body, headers=admin), 409, "conflict")
    assert repos.users.find_by_username("ghost") is None
    assert recorded(repos, "user.created") == []


def test_a_key_whose_record_fails_is_not_created(client, repos, admin, audit_write_refused):
    assert_error(client.post("/api/v1/api-keys", json={"name": "ci"}, headers=admin), 409, "conflict")
    assert repos.api_keys.list_for_tenant("acme") == []
    assert recorded(repos, "api_key.created") == []


def test_a_change_refused_by_its_own_condition_leaves_no_record(client, repos, admin, make_user):
    make_user("taken", role="member")
    body = {"username": "TAKEN", "password": "a long enough password", "role": "member"}
    assert_error(client.post("/api/v1/users", json=body, headers=admin), 409, "conflict")
    assert recorded(repos, "user.created") == []
