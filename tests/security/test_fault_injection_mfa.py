"""DynamoDB faults at every step of the two-factor flows: a 503, and nothing spent or half-written.

The same harness as ``test_fault_injection``: each DynamoDB call of the flow fails in turn. A login with
a code writes the code's use and its ``auth.login_succeeded`` in one transaction, so a fault never
spends a code on a refused login, nor records a login that was refused; confirming and disabling
change the user's two-factor state and write their audit event together, or not at all.
"""

from __future__ import annotations

import pytest

from models.mfa import STEP_SECONDS
from tests.api.mfa.conftest import enrol, now_code
from tests.conftest import bearer
from tests.security import test_fault_injection as harness
from tests.security.test_fault_injection import FAULTS, Flow, check_every_step

injector = harness.injector

LOGIN = "/api/v1/auth/login"
TRANSACTION = "TransactWriteItems:accounts+audit_events"


def two_factor_state(repos, username: str) -> tuple[bool, int, int]:
    user = repos.users.find_by_username(username)
    return user.mfa_enabled, user.mfa_last_step, len(user.mfa_recovery)


def audit_count(repos, action: str) -> int:
    return sum(event.action == action for event in repos.audit.page("acme", limit=200).items)


@pytest.fixture
def enrolled(client, make_user, login, clock):
    alice = make_user("alice", role="member")
    secret, codes = enrol(client, bearer(login(alice)["access_token"]), clock)
    return alice, secret, codes


@pytest.mark.parametrize("fault", list(FAULTS))
def test_login_with_a_code(client, repos, enrolled, clock, injector, fault):
    alice, secret, _ = enrolled

    def make_flow() -> Flow:
        clock.advance(STEP_SECONDS)  # each run's code is a fresh one
        before = (two_factor_state(repos, "alice"), audit_count(repos, "auth.login_succeeded"))
        body = {"username": "alice", "password": alice.password, "otp": now_code(secret, clock)}
        return Flow(
            request=lambda: client.post(LOGIN, json=body),
            happened=lambda: (two_factor_state(repos, "alice"), audit_count(repos, "auth.login_succeeded")) != before,
            status=200,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert steps.count(TRANSACTION) == 1 and "PutItem:audit_events" not in steps


@pytest.mark.parametrize("fault", list(FAULTS))
def test_login_with_a_recovery_code(client, repos, enrolled, injector, fault):
    alice, _, codes = enrolled
    unused = iter(codes)

    def make_flow() -> Flow:
        before = (two_factor_state(repos, "alice"), audit_count(repos, "mfa.recovery_code_used"))
        body = {"username": "alice", "password": alice.password, "otp": next(unused)}
        return Flow(
            request=lambda: client.post(LOGIN, json=body),
            happened=lambda: (two_factor_state(repos, "alice"), audit_count(repos, "mfa.recovery_code_used")) != before,
            status=200,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert steps.count(TRANSACTION) == 1


@pytest.mark.parametrize("fault", list(FAULTS))
def test_confirming_an_enrolment(client, repos, make_user, login, clock, injector, fault):
    counter = iter(range(1000))

    def make_flow() -> Flow:
        account = make_user(f"user-{next(counter)}", role="member")
        headers = bearer(login(account)["access_token"])
        secret = client.post("/api/v1/me/mfa/totp", headers=headers).get_json()["secret"]
        before = audit_count(repos, "mfa.enabled")
        body = {"code": now_code(secret, clock)}
        return Flow(
            request=lambda: client.post("/api/v1/me/mfa/totp/confirm", json=body, headers=headers),
            happened=lambda: (
                two_factor_state(repos, account.username)[0] or audit_count(repos, "mfa.enabled") != before
            ),
            status=200,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert steps.count(TRANSACTION) == 1


@pytest.mark.parametrize("fault", list(FAULTS))
def test_disabling(client, repos, make_user, login, clock, injector, fault):
    counter = iter(range(1000))

    def make_flow() -> Flow:
        account = make_user(f"user-{next(counter)}", role="member")
        headers = bearer(login(account)["access_token"])
        secret, _ = enrol(client, headers, clock)
        # The clock moved: a request re-reads the tenant's settings now, so the flow's own calls are
        # the same every run (that read fails open to the default limit; it is not this flow's).
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        before = audit_count(repos, "mfa.disabled")
        body = {"password": account.password, "code": now_code(secret, clock)}
        return Flow(
            request=lambda: client.post("/api/v1/me/mfa/totp/disable", json=body, headers=headers),
            happened=lambda: (
                not two_factor_state(repos, account.username)[0] or audit_count(repos, "mfa.disabled") != before
            ),
            status=204,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert steps.count(TRANSACTION) == 1
