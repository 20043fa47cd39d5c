"""Password hashing with argon2id at OWASP's recommended parameters."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
OWASP_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID)


def hash_password(password: str, hasher: PasswordHasher = OWASP_HASHER) -> str:
    """Hash a password for storage."""
    return hasher.hash(password)


def verify_password(stored_hash: str | None, password: str, hasher: PasswordHasher = OWASP_HASHER) -> bool:
    """Check a password; with no stored hash, verify against a dummy so the time is the same."""
    try:
        return hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str, hasher: PasswordHasher = OWASP_HASHER) -> bool:
    """True when the stored hash was made with other parameters than the current ones."""
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    # Made on first use, not at import, so a cold start does not pay for it.
    return OWASP_HASHER.hash(secrets.token_urlsafe(32))
