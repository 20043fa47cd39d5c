"""DynamoDB faults at every step of a password change and an admin's reset: a 503, and nothing changed.

The same harness as ``test_fault_injection``: each DynamoDB call of the flow fails in turn (throttled,
timed out, internal error). A failed counter fails open; any other failed call is a 503 envelope with
``Retry-After``, and the user's hash and session generation are as before (one write: both or neither).
"""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, bearer
from tests.security import test_fault_injection as harness
from tests.security.test_fault_injection import FAULTS, Flow, check_every_step

# The harness's fixture, used here too.
injector = harness.injector


def stored(repos, username):
    """What a password change writes: the hash and the session generation."""
    user = repos.users.find_by_username(username)
    return user.password_hash, user.session_generation


@pytest.mark.parametrize("fault", list(FAULTS))
def test_own_password_change(client, repos, make_user, login, injector, fault):
    alice = make_user("alice", role="member")
    headers = bearer(login(alice)["access_token"])
    current = [PASSWORD]
    counter = iter(range(1000))

    def make_flow() -> Flow:
        before = stored(repos, "alice")
        new = f"passphrase number {next(counter)}"

        def request():
            body = {"current_password": current[0], "new_password": new}
            response = client.post("/api/v1/me/password", json=body, headers=headers)
            if response.status_code == 200:
                current[0] = new
            return response

        return Flow(request=request, happened=lambda: stored(repos, "alice") != before, status=200)

    steps = check_every_step(injector, make_flow, fault)
    # The hash and the generation: one write, with its audit record in the same transaction.
    assert steps.count("TransactWriteItems:accounts+audit_events") == 1
    assert client.post("/api/v1/auth/login", json={"username": "alice", "password": current[0]}).status_code == 200


@pytest.mark.parametrize("fault", list(FAULTS))
def test_admin_password_reset(client, repos, admin, make_user, injector, fault):
    bob = make_user("bob", role="member")
    counter = iter(range(1000))

    def make_flow() -> Flow:
        before = stored(repos, "bob")
        body = {"new_password": f"reset number {next(counter)}"}
        return Flow(
            request=lambda: client.post(f"/api/v1/users/{bob.user_id}/password", json=body, headers=admin),
            happened=lambda: stored(repos, "bob") != before,
            status=204,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert steps.count("TransactWriteItems:accounts+audit_events") == 1
