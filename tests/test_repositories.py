"""Repository rules that DynamoDB itself enforces."""

from __future__ import annotations

import threading

import pytest

from models.errors import Conflict, NotFound

pytestmark = pytest.mark.dynamodb_local


def test_concurrent_creation_of_one_username_admits_exactly_one(svc):
    svc.tenants.create("acme")
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def create(spelling: str) -> None:
        barrier.wait()
        try:
            svc.users.create("acme", spelling, "hash", "member")
            outcomes.append("created")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=create, args=(name,)) for name in ["zoe", "ZOE", "Zoe", "zOe"] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["conflict"] * 7 + ["created"]
    assert len(svc.users.list_for_tenant("acme")) == 1


def test_tenant_names_are_unique_and_case_insensitive(svc):
    svc.tenants.create("Acme")
    with pytest.raises(Conflict):
        svc.tenants.create("ACME")
    assert svc.tenants.get("acme").rate_limit == 200


def test_set_rate_limit_on_unknown_tenant_is_not_found(svc):
    with pytest.raises(NotFound):
        svc.tenants.set_rate_limit("nobody", 5)


def test_listing_users_never_reads_password_hashes(svc):
    svc.tenants.create("acme")
    svc.users.create("acme", "alice", "$argon2id$hash", "admin")
    assert [user.password_hash for user in svc.users.list_for_tenant("acme")] == [None]
