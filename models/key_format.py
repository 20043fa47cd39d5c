"""API key strings: ``nmk_live_`` or ``nmk_test_`` + 30 random base62 characters + a 6-character CRC32.

The checksum (as in GitHub's token format) lets a mistyped, truncated or invented key be refused
before any database read. Only the SHA-256 digest of a key is ever stored: with 178 random bits a
key cannot be guessed from its digest, so no pepper (a second secret to manage) is needed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import zlib

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
LIVE_PREFIX = "nmk_live_"
TEST_PREFIX = "nmk_test_"
BODY_LENGTH = 30  # 62**30 > 2**178
CHECKSUM_LENGTH = 6  # 62**6 > 2**32
KEY_LENGTH = len(LIVE_PREFIX) + BODY_LENGTH + CHECKSUM_LENGTH
KEY_PATTERN = re.compile(rf"^nmk_(live|test)_[0-9A-Za-z]{{{BODY_LENGTH + CHECKSUM_LENGTH}}}$")


def key_prefix(production: bool) -> str:
    """The type prefix this stage mints and accepts: live keys only in production."""
    return LIVE_PREFIX if production else TEST_PREFIX


def generate_key(prefix: str) -> str:
    """A new random key with its checksum."""
    body = "".join(secrets.choice(BASE62) for _ in range(BODY_LENGTH))
    return prefix + body + _checksum(prefix + body)


def is_well_formed(key: str, prefix: str) -> bool:
    """True when ``key`` has this stage's prefix, the right length and alphabet, and a valid checksum."""
    if len(key) != KEY_LENGTH or not key.startswith(prefix) or not KEY_PATTERN.match(key):
        return False
    payload, checksum = key[:-CHECKSUM_LENGTH], key[-CHECKSUM_LENGTH:]
    return secrets.compare_digest(_checksum(payload), checksum)


def key_digest(key: str) -> str:
    """The SHA-256 hex digest under which a key is stored and looked up."""
    return hashlib.sha256(key.encode()).hexdigest()


def prefix_hint(key: str) -> str:
    """What a listing shows of a key: its type prefix and last four characters."""
    return f"{key[: len(LIVE_PREFIX)]}...{key[-4:]}"


def _checksum(payload: str) -> str:
    value = zlib.crc32(payload.encode())
    digits = []
    for _ in range(CHECKSUM_LENGTH):
        value, remainder = divmod(value, 62)
        digits.append(BASE62[remainder])
    return "".join(reversed(digits))
