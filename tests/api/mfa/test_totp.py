"""TOTP over HTTP: enrolment, login with a code, replay refused, recovery codes once, disabling, the limits."""

from __future__ import annotations

from typing import Any

from models.mfa import STEP_SECONDS, code_at, time_step
from tests.api.mfa.conftest import enrol, now_code
from tests.conftest import assert_error

LOGIN = "/api/v1/auth/login"


def log_in(client, alice, **extra: Any):
    return client.post(LOGIN, json={"username": alice.username, "password": alice.password, **extra})


def audit_actions(repos, alice) -> list[str]:
    return [event.action for event in repos.audit.page(alice.user.tenant_id, limit=50).items]


def test_enrolment_returns_the_secret_and_uri_once_and_changes_nothing_until_confirmed(client, alice, headers, clock):
    started = client.post("/api/v1/me/mfa/totp", headers=headers)
    body = started.get_json()
    assert started.status_code == 201 and set(body) == {"secret", "otpauth_uri"}
    assert (
        body["otpauth_uri"].startswith("otpauth://totp/NativeMessage:alice?") and body["secret"] in body["otpauth_uri"]
    )
    assert started.headers["Cache-Control"].startswith("no-store")
    assert log_in(client, alice).status_code == 200  # not on until confirmed


def test_a_wrong_confirmation_code_is_refused(client, headers, clock):
    secret = client.post("/api/v1/me/mfa/totp", headers=headers).get_json()["secret"]
    wrong = code_at(secret, time_step(clock.now()) + 3)
    response = client.post("/api/v1/me/mfa/totp/confirm", json={"code": wrong}, headers=headers)
    assert_error(response, 400, "invalid_code")


def test_login_needs_a_code_once_totp_is_on_and_each_code_works_once(client, repos, alice, headers, clock):
    secret, codes = enrol(client, headers, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert_error(log_in(client, alice), 401, "mfa_required")
    code = now_code(secret, clock)
    assert log_in(client, alice, otp=code).status_code == 200
    assert_error(log_in(client, alice, otp=code), 401, "invalid_credentials")  # replayed in its step
    clock.advance(STEP_SECONDS)
    assert log_in(client, alice, otp=now_code(secret, clock)).status_code == 200
    assert "mfa.enabled" in audit_actions(repos, alice)


def test_mfa_required_only_after_the_password(client, alice, headers, clock):
    enrol(client, headers, clock)
    wrong = client.post(LOGIN, json={"username": alice.username, "password": "not the password"})
    assert_error(wrong, 401, "invalid_credentials")
    with_code = client.post(LOGIN, json={"username": alice.username, "password": "not the password", "otp": "123456"})
    assert_error(with_code, 401, "invalid_credentials")


def test_a_recovery_code_works_once(client, repos, alice, headers, clock):
    _, codes = enrol(client, headers, clock)
    assert log_in(client, alice, otp=codes[0]).status_code == 200
    assert_error(log_in(client, alice, otp=codes[0]), 401, "invalid_credentials")
    assert audit_actions(repos, alice).count("mfa.recovery_code_used") == 1


def test_users_without_totp_log_in_as_before_and_otp_is_ignored_for_them(client, alice):
    assert log_in(client, alice).status_code == 200
    assert log_in(client, alice, otp="123456").status_code == 200
    assert log_in(client, alice, otp="").status_code == 200  # a form that always sends the field


def test_an_empty_otp_is_no_code(client, alice, headers, clock):
    enrol(client, headers, clock)
    assert_error(log_in(client, alice, otp=""), 401, "mfa_required")


def test_failed_codes_count_in_the_login_limits_and_mfa_required_does_not(client, alice, headers, clock):
    secret, _ = enrol(client, headers, clock)
    for _ in range(3):
        assert_error(log_in(client, alice), 401, "mfa_required")
    wrong = code_at(secret, time_step(clock.now()) + 5)
    statuses = [log_in(client, alice, otp=wrong).status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]


def test_disabling_needs_the_password_and_a_code(client, repos, alice, headers, clock):
    secret, _ = enrol(client, headers, clock)
    code = now_code(secret, clock)
    wrong_password = client.post(
        "/api/v1/me/mfa/totp/disable", json={"password": "nope", "code": code}, headers=headers
    )
    assert_error(wrong_password, 401, "invalid_credentials")
    wrong_code = client.post(
        "/api/v1/me/mfa/totp/disable", json={"password": alice.password, "code": "12345a"}, headers=headers
    )
    assert_error(wrong_code, 401, "invalid_credentials")
    done = client.post("/api/v1/me/mfa/totp/disable", json={"password": alice.password, "code": code}, headers=headers)
    assert done.status_code == 204
    assert log_in(client, alice).status_code == 200
    assert "mfa.disabled" in audit_actions(repos, alice)
    again = client.post("/api/v1/me/mfa/totp/disable", json={"password": alice.password, "code": code}, headers=headers)
    assert_error(again, 409, "conflict")


def test_enrolling_twice_is_a_conflict(client, headers, clock):
    enrol(client, headers, clock)
    assert_error(client.post("/api/v1/me/mfa/totp", headers=headers), 409, "conflict")
