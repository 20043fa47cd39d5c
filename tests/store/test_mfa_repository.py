"""Two-factor state on the user's item: enrolment, confirmation, codes used once, recovery codes, disabling."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from models.audit_record import Actor, Origin
from models.clock import FrozenClock
from models.mfa import STEP_SECONDS, code_at, time_step
from models.mfa_repository import RECOVERY_CODE, TOTP, InvalidCode
from models.store.dynamo import read_item
from models.store.errors import Conflict
from models.store.item_keys import user_key
from models.store.tables import ACCOUNTS
from tests.api.mfa.conftest import now_code

pytestmark = pytest.mark.dynamodb_local


@pytest.fixture
def frozen(repos) -> FrozenClock:
    """The service's clock, frozen at the start of a time step (the store tests' ``clock`` is the limits')."""
    repos.clock = FrozenClock(datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC))
    return repos.clock


@pytest.fixture
def user(repos):
    repos.tenants.create("acme")
    return repos.users.create("acme", "alice", "hash", "admin")


def event(repos, user, action):
    return repos.audit.event(user.tenant_id, action, Actor(user.user_id, user.username, "jwt"), Origin())


def stored(repos, user) -> dict:
    return read_item(repos.db, repos.db.table_name(ACCOUNTS.name), user_key(user.username)) or {}


def enrol(repos, user, clock) -> tuple[str, list[str]]:
    secret = repos.mfa.start_enrolment(user).secret
    return secret, repos.mfa.confirm(user, now_code(secret, clock), audit=[event(repos, user, "mfa.enabled")])


def actions(repos, user) -> list[str]:
    return [item.action for item in repos.audit.page(user.tenant_id, limit=50).items]


def test_enrolment_stores_the_pending_secret_encrypted_and_changes_nothing_else(repos, user, frozen):
    enrolment = repos.mfa.start_enrolment(user)
    assert enrolment.otpauth_uri.startswith("otpauth://totp/NativeMessage:alice?")
    item = stored(repos, user)
    assert item["mfa_pending_secret"].startswith("v1.") and enrolment.secret not in str(item)
    assert repos.users.reload(user).mfa_enabled is False
    assert enrolment.secret not in repr(enrolment) and item["mfa_pending_secret"] not in repr(repos.users.reload(user))


def test_confirming_turns_it_on_with_ten_recovery_codes_stored_only_as_digests(repos, user, frozen):
    secret, codes = enrol(repos, user, frozen)
    after = repos.users.reload(user)
    assert after.mfa_enabled and len(codes) == 10 and len(after.mfa_recovery) == 10
    item = stored(repos, user)
    assert "mfa_pending_secret" not in item and secret not in str(item)
    assert not any(code in str(item) or code.replace("-", "") in str(item) for code in codes)
    assert actions(repos, user) == ["mfa.enabled"]


def test_a_wrong_code_does_not_confirm_and_writes_nothing(repos, user, frozen):
    secret = repos.mfa.start_enrolment(user).secret
    wrong = code_at(secret, time_step(frozen.now()) + 5)
    with pytest.raises(InvalidCode):
        repos.mfa.confirm(user, wrong, audit=[event(repos, user, "mfa.enabled")])
    assert repos.users.reload(user).mfa_enabled is False and actions(repos, user) == []


def test_confirming_without_an_enrolment_and_enrolling_twice_are_refused(repos, user, frozen):
    with pytest.raises(InvalidCode):
        repos.mfa.confirm(user, "123456")
    enrol(repos, user, frozen)
    with pytest.raises(Conflict):
        repos.mfa.start_enrolment(user)


def test_a_restarted_enrolment_replaces_the_pending_secret(repos, user, frozen):
    first = repos.mfa.start_enrolment(user).secret
    second = repos.mfa.start_enrolment(user).secret
    with pytest.raises(InvalidCode):
        repos.mfa.confirm(user, now_code(first, frozen))
    assert len(repos.mfa.confirm(user, now_code(second, frozen))) == 10


def test_a_totp_code_is_accepted_once_per_step(repos, user, frozen):
    secret, _ = enrol(repos, user, frozen)
    frozen.advance(STEP_SECONDS)
    code = now_code(secret, frozen)
    assert repos.mfa.use_code(repos.users.reload(user), code) == TOTP
    with pytest.raises(InvalidCode):
        repos.mfa.use_code(repos.users.reload(user), code)
    frozen.advance(STEP_SECONDS)
    assert repos.mfa.use_code(repos.users.reload(user), now_code(secret, frozen)) == TOTP


def test_two_uses_of_one_code_racing_from_the_same_read_admit_only_one(repos, user, frozen):
    secret, _ = enrol(repos, user, frozen)
    frozen.advance(STEP_SECONDS)
    seen = repos.users.reload(user)  # both requests read the user before either wrote
    code = now_code(secret, frozen)
    assert repos.mfa.use_code(seen, code) == TOTP
    with pytest.raises(InvalidCode):
        repos.mfa.use_code(seen, code)  # passes the check in memory, refused by the write's condition


def test_a_recovery_code_works_once_and_is_audited(repos, user, frozen):
    _, codes = enrol(repos, user, frozen)
    seen = repos.users.reload(user)
    used = event(repos, user, "mfa.recovery_code_used")
    assert repos.mfa.use_code(seen, codes[3].upper(), recovery_audit=[used]) == RECOVERY_CODE
    assert len(repos.users.reload(user).mfa_recovery) == 9
    with pytest.raises(InvalidCode):
        repos.mfa.use_code(repos.users.reload(user), codes[3])
    with pytest.raises(InvalidCode):
        repos.mfa.use_code(seen, codes[3])  # a racing second use, from before the removal
    assert actions(repos, user) == ["mfa.recovery_code_used", "mfa.enabled"]


def test_codes_are_refused_when_two_factor_is_off(repos, user, frozen):
    secret = repos.mfa.start_enrolment(user).secret
    with pytest.raises(InvalidCode):
        repos.mfa.use_code(repos.users.reload(user), now_code(secret, frozen))


def test_disabling_needs_a_valid_code_and_removes_the_secret_and_the_recovery_codes(repos, user, frozen):
    secret, codes = enrol(repos, user, frozen)
    frozen.advance(STEP_SECONDS)
    with pytest.raises(InvalidCode):
        repos.mfa.disable(user, "000000" if now_code(secret, frozen) != "000000" else "111111")
    assert repos.users.reload(user).mfa_enabled
    repos.mfa.disable(user, now_code(secret, frozen), audit=[event(repos, user, "mfa.disabled")])
    item = stored(repos, user)
    assert item["mfa_enabled"] is False
    assert not {"mfa_secret", "mfa_recovery", "mfa_pending_secret"} & set(item)
    assert actions(repos, user) == ["mfa.disabled", "mfa.enabled"]
    with pytest.raises(InvalidCode):
        repos.mfa.use_code(repos.users.reload(user), codes[0])


def test_disabling_with_a_recovery_code(repos, user, frozen):
    _, codes = enrol(repos, user, frozen)
    repos.mfa.disable(user, codes[0])
    assert repos.users.reload(user).mfa_enabled is False


def test_a_role_change_keeps_the_two_factor_state(repos, user, frozen, monkeypatch):
    # Two-factor is turned on between the role change's read and its write: the write, guarded by
    # keys_version (which every two-factor write moves on), must fail and retry from the new state.
    real_reload = repos.users.reload
    raced = []

    def reload_then_enrol(target):
        before = real_reload(target)
        if not raced:
            raced.append(True)
            enrol(repos, user, frozen)
        return before

    monkeypatch.setattr(repos.users, "reload", reload_then_enrol)
    repos.users.update(user, role="member")
    monkeypatch.setattr(repos.users, "reload", real_reload)
    after = repos.users.reload(user)
    assert raced and (after.role, after.mfa_enabled, len(after.mfa_recovery)) == ("member", True, 10)
