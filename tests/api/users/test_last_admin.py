"""A tenant never loses its last active admin, even to two admins acting on each other at once."""

from __future__ import annotations

import threading

import pytest

from tests.conftest import ON_DYNAMODB_LOCAL, assert_error, bearer

pytestmark = pytest.mark.dynamodb_local

CHANGES = [
    {"disabled": True},
    {"role": "member"},
    {"disabled": True},
    {"role": "viewer"},
    {"role": "member"},
    {"disabled": True},
]


@pytest.mark.skipif(
    not ON_DYNAMODB_LOCAL,
    reason="needs DynamoDB's atomic transactions (moto's are not): make test's DynamoDB Local pass",
)
@pytest.mark.parametrize("change", CHANGES, ids=[f"round {n}: {change}" for n, change in enumerate(CHANGES)])
def test_two_admins_removing_each_other_at_once_cannot_both_succeed(app, make_user, login, repos, change):
    first, second = (make_user(name, role="admin", tenant="duo") for name in ("first-admin", "second-admin"))
    headers = {account.user_id: bearer(login(account)["access_token"]) for account in (first, second)}
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def remove(actor, target) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.patch(f"/api/v1/users/{target.user_id}", json=change, headers=headers[actor.user_id])
        statuses[actor.username] = response.status_code

    threads = [threading.Thread(target=remove, args=pair) for pair in ((first, second), (second, first))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses.values()) in ([200, 403], [200, 401]), statuses
    admins = [user for user in repos.users.list_for_tenant("duo") if user.role == "admin" and not user.disabled]
    assert len(admins) == 1


def test_an_admin_whose_rights_are_gone_cannot_remove_another(client, make_user, login, repos):
    first, second = make_user("first-admin", role="admin"), make_user("second-admin", role="admin")
    first_headers = bearer(login(first)["access_token"])
    repos.users.update(first.user, role="member")  # meanwhile, from elsewhere
    response = client.patch(f"/api/v1/users/{second.user_id}", json={"disabled": True}, headers=first_headers)
    assert_error(response, 403, "insufficient_scope")
    assert repos.users.find_by_username("second-admin").disabled is False
