"""A TOTP secret the current key cannot decrypt (MFA_ENCRYPTION_KEY changed after users enrolled), over HTTP.

No code can be checked then: login, confirm and disable answer 503 ``mfa_unavailable`` in the
envelope, never a 500, and the log says why at error level without any secret.
"""

from __future__ import annotations

import logging

import pytest

from tests.api.mfa.conftest import enrol, now_code
from tests.conftest import assert_error, repositories_of

LOGIN = "/api/v1/auth/login"
NEW_KEY = "a new MFA_ENCRYPTION_KEY, at least 32 bytes long"


@pytest.fixture
def rekeyed(app_with, repos, clock):
    """The same service (tables, signing secret, clock) redeployed with another MFA_ENCRYPTION_KEY."""
    application = app_with(mfa_encryption_key=NEW_KEY, table_prefix=repos.settings.table_prefix)
    repositories_of(application).clock = clock
    return application.test_client()


def assert_unavailable(response, caplog, *secrets: str) -> None:
    error = assert_error(response, 503, "mfa_unavailable")
    assert "two-factor" in error["message"].lower() and "support" in error["message"]
    assert int(response.headers["Retry-After"]) > 0
    [logged] = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert "MFA_ENCRYPTION_KEY" in logged.getMessage() and not logged.exc_info
    for secret in secrets:
        assert secret not in caplog.text and secret not in response.get_data(as_text=True)


def stored_secret(repos, alice) -> str:
    user = repos.users.find_by_username(alice.username)
    return user.mfa_secret or user.mfa_pending_secret


def test_a_login_with_a_code_is_503_not_500(client, repos, rekeyed, alice, headers, clock, caplog):
    secret, codes = enrol(client, headers, clock)
    credentials = {"username": alice.username, "password": alice.password}
    with caplog.at_level(logging.INFO):
        response = rekeyed.post(LOGIN, json={**credentials, "otp": now_code(secret, clock)})
    assert_unavailable(response, caplog, secret, stored_secret(repos, alice))
    # A recovery code cannot be checked either (its digest is keyed from the same material).
    caplog.clear()
    assert_unavailable(rekeyed.post(LOGIN, json={**credentials, "otp": codes[0]}), caplog, secret, codes[0])
    # Without a code nothing is decrypted: the usual answer. A wrong password is still a 401.
    assert_error(rekeyed.post(LOGIN, json=credentials), 401, "mfa_required")
    wrong = rekeyed.post(LOGIN, json={**credentials, "password": "not the password", "otp": codes[1]})
    assert_error(wrong, 401, "invalid_credentials")
    # Nothing was spent: with the old key back, the recovery code still works.
    assert client.post(LOGIN, json={**credentials, "otp": codes[0]}).status_code == 200


def test_disabling_is_503_after_the_password_check(client, repos, rekeyed, alice, headers, clock, caplog):
    secret, _ = enrol(client, headers, clock)
    body = {"password": alice.password, "code": now_code(secret, clock)}
    response = rekeyed.post("/api/v1/me/mfa/totp/disable", json=body, headers=headers)
    assert_unavailable(response, caplog, secret, stored_secret(repos, alice))
    wrong = rekeyed.post("/api/v1/me/mfa/totp/disable", json={**body, "password": "nope"}, headers=headers)
    assert_error(wrong, 401, "invalid_credentials")
    still_on = rekeyed.post(LOGIN, json={"username": alice.username, "password": alice.password})
    assert_error(still_on, 401, "mfa_required")


def test_confirming_an_enrolment_started_under_the_old_key_is_503(
    client, repos, rekeyed, alice, headers, clock, caplog
):
    secret = client.post("/api/v1/me/mfa/totp", headers=headers).get_json()["secret"]
    pending = stored_secret(repos, alice)
    response = rekeyed.post("/api/v1/me/mfa/totp/confirm", json={"code": now_code(secret, clock)}, headers=headers)
    assert_unavailable(response, caplog, secret, pending)
    # Starting again encrypts a new secret with the key in use, and that one confirms.
    again = rekeyed.post("/api/v1/me/mfa/totp", headers=headers).get_json()["secret"]
    confirmed = rekeyed.post("/api/v1/me/mfa/totp/confirm", json={"code": now_code(again, clock)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.get_json()


def test_the_documented_rotation_keeps_enrolments(client, repos, app_with, jwt_secret, alice, headers, clock):
    # operations.md: set MFA_ENCRYPTION_KEY to the current signing secret, then rotate the signing secret.
    secret, _ = enrol(client, headers, clock)
    rotated = app_with(
        mfa_encryption_key=jwt_secret,
        jwt_secret_key="a brand new signing secret of at least 32 bytes",
        table_prefix=repos.settings.table_prefix,
    )
    repositories_of(rotated).clock = clock
    credentials = {"username": alice.username, "password": alice.password}
    answer = rotated.test_client().post(LOGIN, json={**credentials, "otp": now_code(secret, clock)})
    assert answer.status_code == 200, answer.get_json()
