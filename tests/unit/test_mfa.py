"""TOTP codes, drift and replay, recovery codes and the secret's encryption (models/mfa.py), on a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from models.clock import FrozenClock
from models.mfa import (
    RECOVERY_CODE_COUNT,
    STEP_SECONDS,
    MfaKeys,
    UndecryptableSecret,
    accepted_step,
    code_at,
    new_recovery_codes,
    new_secret,
    otpauth_uri,
    time_step,
)

MATERIAL = "k" * 48


@pytest.fixture
def clock() -> FrozenClock:
    """A clock at the start of a time step, moved by the tests."""
    return FrozenClock(datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC))


def test_a_new_secret_is_base32_of_160_bits_and_differs_each_time():
    secret = new_secret()
    assert len(secret) == 32 and pyotp.TOTP(secret).now().isdigit()
    assert new_secret() != secret


def test_the_otpauth_uri_names_the_issuer_and_the_username():
    secret = new_secret()
    uri = urlparse(otpauth_uri(secret, "alice"))
    assert (uri.scheme, uri.netloc, uri.path) == ("otpauth", "totp", "/NativeMessage:alice")
    query = parse_qs(uri.query)
    assert query["secret"] == [secret] and query["issuer"] == ["NativeMessage"]


def test_codes_are_those_of_an_authenticator_app(clock):
    secret = new_secret()
    assert code_at(secret, time_step(clock.now())) == pyotp.TOTP(secret).at(clock.now())


def test_the_current_code_and_one_step_either_side_are_accepted(clock):
    secret = new_secret()
    now = time_step(clock.now())
    for step in (now - 1, now, now + 1):
        assert accepted_step(secret, code_at(secret, step), clock.now(), last_step=0) == step
    for step in (now - 2, now + 2):
        assert accepted_step(secret, code_at(secret, step), clock.now(), last_step=0) is None


def test_a_code_ages_out_after_one_step_of_drift(clock):
    secret = new_secret()
    code = code_at(secret, time_step(clock.now()))
    clock.advance(STEP_SECONDS)
    assert accepted_step(secret, code, clock.now(), last_step=0) is not None
    clock.advance(STEP_SECONDS)
    assert accepted_step(secret, code, clock.now(), last_step=0) is None


def test_a_code_is_not_accepted_again_nor_any_older_one(clock):
    secret = new_secret()
    now = time_step(clock.now())
    step = accepted_step(secret, code_at(secret, now), clock.now(), last_step=0)
    assert step == now
    assert accepted_step(secret, code_at(secret, now), clock.now(), last_step=step) is None
    assert accepted_step(secret, code_at(secret, now - 1), clock.now(), last_step=step) is None
    assert accepted_step(secret, code_at(secret, now + 1), clock.now(), last_step=step) == now + 1


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16", " 123456"])
def test_what_is_not_six_ascii_digits_is_never_a_code(clock, code):
    assert accepted_step(new_secret(), code, clock.now(), last_step=0) is None


def test_ten_recovery_codes_each_different_grouped_for_reading():
    codes = new_recovery_codes()
    assert len(codes) == RECOVERY_CODE_COUNT == len(set(codes))
    assert all(len(code) == 14 and code.count("-") == 2 for code in codes)


def test_a_recovery_codes_digest_is_keyed_and_ignores_case_spaces_and_dashes():
    keys = MfaKeys(lambda: MATERIAL)
    code = new_recovery_codes()[0]
    digest = keys.recovery_code_digest(code)
    assert code not in digest and len(digest) == 64
    assert keys.recovery_code_digest(" " + code.upper().replace("-", " ")) == digest
    assert MfaKeys(lambda: "other" * 10).recovery_code_digest(code) != digest


def test_a_secret_is_encrypted_for_one_user_and_decrypts_only_there():
    keys = MfaKeys(lambda: MATERIAL)
    secret = new_secret()
    stored = keys.encrypt_secret(secret, "usr_1")
    assert secret not in stored and stored != keys.encrypt_secret(secret, "usr_1")  # a fresh nonce each time
    assert keys.decrypt_secret(stored, "usr_1") == secret
    with pytest.raises(UndecryptableSecret):
        keys.decrypt_secret(stored, "usr_2")  # copied onto another user's item


@pytest.mark.parametrize(
    "tamper", [lambda s: s[:-2] + "AA", lambda s: "v2" + s[2:], lambda s: "v1.@@", lambda s: "v1."]
)
def test_a_tampered_or_foreign_ciphertext_does_not_decrypt(tamper):
    keys = MfaKeys(lambda: MATERIAL)
    with pytest.raises(UndecryptableSecret):
        keys.decrypt_secret(tamper(keys.encrypt_secret(new_secret(), "usr_1")), "usr_1")


def test_another_key_material_cannot_decrypt():
    stored = MfaKeys(lambda: MATERIAL).encrypt_secret(new_secret(), "usr_1")
    with pytest.raises(UndecryptableSecret):
        MfaKeys(lambda: "z" * 48).decrypt_secret(stored, "usr_1")
