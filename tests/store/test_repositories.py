"""Repository rules that DynamoDB itself enforces."""

from __future__ import annotations

import threading

import pytest

from models.store.errors import Conflict, NotFound

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
