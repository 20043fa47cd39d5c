"""argon2id at OWASP parameters, upgraded on login when the parameters change."""

from __future__ import annotations

from argon2 import PasswordHasher, Type

from models.passwords import hash_password, needs_rehash, verify_password


def test_hashes_are_argon2id_at_owasp_parameters():
    stored = hash_password("a password")
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(stored, "a password")
    assert not verify_password(stored, "another password")


def test_a_missing_or_corrupt_hash_never_verifies():
    assert not verify_password(None, "anything")
    assert not verify_password("not-a-hash", "anything")


def test_login_upgrades_a_hash_made_with_old_parameters(client, repos, make_user):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    repos.tenants.create("acme")
    user = repos.users.create("acme", "legacy", weak.hash("a legacy password"), "member")
    assert needs_rehash(user.password_hash)

    response = client.post("/api/v1/auth/login", json={"username": "legacy", "password": "a legacy password"})

    assert response.status_code == 200
    upgraded = repos.users.find_by_username("legacy").password_hash
    assert upgraded.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(upgraded, "a legacy password")
