"""Repository rules that DynamoDB itself enforces."""

from __future__ import annotations

import threading

import pytest

from models.passwords import hash_password, verify_password
from models.store.errors import Conflict, NotAllowed, NotFound

pytestmark = pytest.mark.dynamodb_local


def test_concurrent_creation_of_one_username_admits_exactly_one(repos):
    repos.tenants.create("acme")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def create(spelling: str) -> None:
        barrier.wait()
        try:
            repos.users.create("acme", spelling, "hash", "member")
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=create, args=(name,)) for name in ["zoe", "ZOE", "Zoe", "zOe"] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 7 + ["created"]
    assert len(repos.users.list_for_tenant("acme")) == 1


def test_tenant_names_are_unique_and_case_insensitive(repos):
    repos.tenants.create("Acme")
    with pytest.raises(Conflict):
        repos.tenants.create("ACME")
    assert repos.tenants.get("acme").rate_limit == 200


def test_set_rate_limit_on_unknown_tenant_is_not_found(repos):
    with pytest.raises(NotFound):
        repos.tenants.set_rate_limit("nobody", 5)


def test_listing_users_never_reads_password_hashes(repos):
    repos.tenants.create("acme")
    repos.users.create("acme", "alice", "$argon2id$hash", "admin")
    assert [user.password_hash for user in repos.users.list_for_tenant("acme")] == [None]


def test_a_change_made_as_an_admin_is_written_only_while_that_admin_still_is_one(repos):
    repos.tenants.create("acme")
    actor = repos.users.create("acme", "actor", "hash", "admin")
    target = repos.users.create("acme", "target", "hash", "admin")
    repos.users.update(actor, role="member")  # the actor is demoted before their change lands
    with pytest.raises(NotAllowed):
        repos.users.update(target, disabled=True, acting_admin=actor)
    assert repos.users.find_by_username("target").disabled is False  # nothing written


def test_disabling_a_user_moves_their_session_generation_on_for_good(repos):
    repos.tenants.create("acme")
    user = repos.users.create("acme", "alice", "hash", "member")
    assert user.session_generation == 0
    repos.users.update(user, disabled=True)
    enabled = repos.users.update(user, disabled=False)
    assert enabled.session_generation == 1 == repos.users.find_by_username("alice").session_generation
    assert repos.users.update(user, role="viewer").session_generation == 1  # other changes leave it


def test_a_password_change_sets_the_hash_and_ends_sessions_in_one_conditional_write(repos, dynamodb_calls):
    repos.tenants.create("acme")
    user = repos.users.create("acme", "alice", "old-hash", "member")
    dynamodb_calls.clear()
    changed = repos.users.change_password(user, "new-hash")
    assert dynamodb_calls == ["UpdateItem:accounts"]
    assert (changed.password_hash, changed.session_generation) == ("new-hash", 1)
    stored = repos.users.find_by_username("alice")
    assert (stored.password_hash, stored.session_generation) == ("new-hash", 1)


def test_a_password_change_over_a_hash_changed_meanwhile_is_a_conflict_and_writes_nothing(repos):
    repos.tenants.create("acme")
    seen = repos.users.create("acme", "alice", "old-hash", "member")
    repos.users.change_password(seen, "someone-elses-hash")  # another change lands first
    with pytest.raises(Conflict):
        repos.users.change_password(seen, "late-hash")
    stored = repos.users.find_by_username("alice")
    assert (stored.password_hash, stored.session_generation) == ("someone-elses-hash", 1)
    repos.users.delete(stored)
    with pytest.raises(NotFound):
        repos.users.change_password(stored, "hash-of-a-deleted-user")


def test_a_rewrite_that_read_the_user_before_a_password_change_does_not_undo_it(repos, make_user):
    make_user("maria", role="member")
    before = repos.users.find_by_username("maria")
    raced: list[bool] = []

    def change_the_password_first(**_: object) -> None:
        # Between update()'s read of the user and its write: another request changes the password.
        if not raced:
            raced.append(True)
            repos.users.change_password(before, hash_password("a brand new passphrase"))

    events = repos.db.client.meta.events
    events.register("before-call.dynamodb.TransactWriteItems", change_the_password_first)
    try:
        repos.users.update(before, role="viewer")
    finally:
        events.unregister("before-call.dynamodb.TransactWriteItems", change_the_password_first)
    after = repos.users.find_by_username("maria")
    assert raced and after.role == "viewer"
    assert verify_password(after.password_hash, "a brand new passphrase")  # not put back to the old hash
    assert after.session_generation == before.session_generation + 1
