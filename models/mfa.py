"""Two-factor authentication by TOTP (RFC 6238): secrets, codes, recovery codes, and their keys.

Pure domain: no storage, no Flask. ``MfaKeys`` turns one key material (the JWT signing secret, or
``MFA_ENCRYPTION_KEY`` when set) into two independent keys with HKDF-SHA-256:

- an AES-256-GCM key that encrypts each TOTP secret at rest, with the user's id as associated data,
  so a stored secret copied onto another user's item does not decrypt;
- an HMAC-SHA-256 key for the recovery codes' digests. A fast keyed hash rather than argon2: a code
  carries about 59 random bits from ``secrets``, far beyond guessing, so slowing each guess adds
  nothing; the key means a stolen table alone cannot check a guess offline; and a digest can be
  looked up and removed in one conditional write, instead of ten argon2 verifications per login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ISSUER = "NativeMessage"
STEP_SECONDS = 30
# One step either side of now: a phone's clock a little off, or a code typed as it changed.
DRIFT_STEPS = 1
CODE_DIGITS = 6
RECOVERY_CODE_COUNT = 10
# Lower-case letters and digits without the look-alikes (0/o, 1/l/i): 31 symbols, 12 of them ≈ 59 bits.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_GROUPS = 3
RECOVERY_GROUP_LENGTH = 4
# Versioned so that a later change of cipher or key can tell old ciphertexts apart.
CIPHERTEXT_PREFIX = "v1."
NONCE_BYTES = 12
ENCRYPTION_INFO = b"nativemessage mfa totp secret v1"
RECOVERY_INFO = b"nativemessage mfa recovery codes v1"


class UndecryptableSecret(Exception):
    """A stored TOTP secret that the current key cannot decrypt (key changed, or item tampered with)."""


def new_secret() -> str:
    """A new random TOTP secret, base32 (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(length=32)


def otpauth_uri(secret: str, username: str) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app reads (issuer NativeMessage, account the username)."""
    return pyotp.TOTP(secret, digits=CODE_DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )


def time_step(moment: datetime) -> int:
    """The RFC 6238 time step (counter) of ``moment``."""
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of ``secret`` for one time step (what an authenticator shows then)."""
    return pyotp.TOTP(secret, digits=CODE_DIGITS, interval=STEP_SECONDS).generate_otp(step)


def is_totp_code(value: str) -> bool:
    """True when ``value`` has the shape of a TOTP code (six digits) rather than a recovery code."""
    return len(value) == CODE_DIGITS and value.isascii() and value.isdigit()


def accepted_step(secret: str, code: str, now: datetime, last_step: int) -> int | None:
    """The time step ``code`` is valid for (now, or one step either side), if later than ``last_step``.

    None for a wrong code, and for a right one of a step at or before the last accepted one: a code
    (and any older one) is accepted once. The caller stores the step with a condition that it is
    still greater than the stored one, so two concurrent uses of one code cannot both pass.
    """
    if not is_totp_code(code):
        return None
    current = time_step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        # Every candidate is compared (no early exit on a match) in constant time.
        if step > last_step and hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def new_recovery_codes() -> list[str]:
    """``RECOVERY_CODE_COUNT`` new single-use recovery codes, as ``xxxx-xxxx-xxxx``."""
    return [
        "-".join(
            "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP_LENGTH))
            for _ in range(RECOVERY_GROUPS)
        )
        for _ in range(RECOVERY_CODE_COUNT)
    ]


def normalize_recovery_code(value: str) -> str:
    """A recovery code as typed, without case, spaces and dashes (what its digest is taken of)."""
    return "".join(value.split()).replace("-", "").lower()


class MfaKeys:
    """The TOTP secrets' encryption key and the recovery codes' hashing key, derived from one key material.

    ``key_material`` is called on first use (the signing secret may come from SSM, read lazily).
    """

    def __init__(self, key_material: Callable[[], str]) -> None:
        self._key_material = key_material
        self._keys: dict[bytes, bytes] = {}
        self._keys_of: str | None = None

    def encrypt_secret(self, secret: str, user_id: str) -> str:
        """``secret`` encrypted for storage on ``user_id``'s item (AES-GCM, a fresh nonce each time)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self._key(ENCRYPTION_INFO)).encrypt(nonce, secret.encode(), user_id.encode())
        return CIPHERTEXT_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()

    def decrypt_secret(self, stored: str, user_id: str) -> str:
        """The TOTP secret stored on ``user_id``'s item; UndecryptableSecret if it does not decrypt."""
        # The messages name the user (for whoever reads the log), never anything of the secret.
        if not stored.startswith(CIPHERTEXT_PREFIX):
            raise UndecryptableSecret(f"the TOTP secret stored for user {user_id} is not an encrypted one")
        try:
            raw = base64.urlsafe_b64decode(stored.removeprefix(CIPHERTEXT_PREFIX))
            plain = AESGCM(self._key(ENCRYPTION_INFO)).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], user_id.encode())
        except (InvalidTag, ValueError) as exc:
            raise UndecryptableSecret(
                f"the TOTP secret stored for user {user_id} does not decrypt with the current key"
            ) from exc
        return plain.decode()

    def recovery_code_digest(self, code: str) -> str:
        """The stored form of a recovery code: HMAC-SHA-256 of its normalized text, hex."""
        normalized = normalize_recovery_code(code).encode()
        return hmac.new(self._key(RECOVERY_INFO), normalized, hashlib.sha256).hexdigest()

    def _key(self, info: bytes) -> bytes:
        material = self._key_material()
        if material != self._keys_of:
            self._keys = {}  # the key material changed (a test app's new secret): derive again
            self._keys_of = material
        if info not in self._keys:
            self._keys[info] = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(
                material.encode()
            )
        return self._keys[info]
