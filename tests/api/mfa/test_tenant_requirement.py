"""A tenant that requires two-factor authentication (``tenants set-mfa NAME required``), over HTTP.

Login reads the tenant on every attempt, so the requirement applies to the next one at once; a
refresh reads it from the per-process tenant cache (at most a minute old), so the tests move the
service's clock past that minute instead of waiting.
"""

from __future__ import annotations

from tests.api.mfa.conftest import enrol, now_code
from tests.conftest import api_key, assert_error, bearer

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
# The tenant cache's lifetime (models/tenants.py), and a second more.
PAST_THE_CACHE = 61


def require_mfa(repos, tenant: str = "acme", required: bool = True) -> None:
    repos.tenants.set_mfa_required(tenant, required)


def log_in(client, account, **extra):
    return client.post(LOGIN, json={"username": account.username, "password": account.password, **extra})


def test_a_user_without_totp_in_a_tenant_that_requires_it_is_sent_to_the_dashboard(client, repos, alice):
    require_mfa(repos)
    response = log_in(client, alice)
    error = assert_error(response, 403, "mfa_enrollment_required")
    assert "Settings → Account → Two-factor" in error["message"] and "dashboard" in error["message"]
    assert "access_token" not in response.get_data(as_text=True)


def test_a_wrong_password_is_still_invalid_credentials(client, repos, alice, login, clock):
    require_mfa(repos)
    wrong = client.post(LOGIN, json={"username": alice.username, "password": "not the password"})
    assert_error(wrong, 401, "invalid_credentials")
    unknown = client.post(LOGIN, json={"username": "nobody", "password": "not the password"})
    assert_error(unknown, 401, "invalid_credentials")


def test_a_user_with_totp_logs_in_with_a_code_as_usual(client, repos, alice, login, clock):
    secret, _ = enrol(client, bearer(login(alice)["access_token"]), clock)
    require_mfa(repos)
    assert_error(log_in(client, alice), 401, "mfa_required")
    assert_error(client.post(LOGIN, json={"username": alice.username, "password": "nope", "otp": "123456"}),
                 401, "invalid_credentials")  # fmt: skip
    assert log_in(client, alice, otp=now_code(secret, clock)).status_code == 200


def test_users_of_other_tenants_are_unaffected(client, repos, alice, make_user):
    bob = make_user("bob", role="member", tenant="globex")
    require_mfa(repos, "acme")
    assert log_in(client, bob).status_code == 200
    require_mfa(repos, "acme", required=False)
    assert log_in(client, alice).status_code == 200


def test_the_refused_login_is_not_a_failed_attempt(client, repos, alice):
    # The password was right: being sent to enrol must not lock the owner out of the login limits.
    require_mfa(repos)
    for _ in range(12):
        assert_error(log_in(client, alice), 403, "mfa_enrollment_required")
    require_mfa(repos, required=False)
    assert log_in(client, alice).status_code == 200


def test_a_refresh_token_stops_renewing_once_the_tenant_requires_totp(client, repos, alice, login, clock):
    tokens = login(alice)
    refreshed = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    require_mfa(repos)
    clock.advance(PAST_THE_CACHE)
    error = assert_error(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 403, "mfa_enrollment_required")
    assert "Settings → Account → Two-factor" in error["message"]
    # Access tokens already issued live out their (15-minute) lives; signing out still works.
    assert client.get("/api/v1/me", headers=bearer(refreshed.get_json()["access_token"])).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"])).status_code == 204


def test_a_refresh_reads_the_requirement_from_the_tenant_cache(client, repos, alice, login, clock, dynamodb_calls):
    tokens = login(alice)
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 200
    require_mfa(repos)
    dynamodb_calls.clear()
    # Within the cache's minute the tenant is not read again: the refresh still works, and costs
    # one read of the account (the tenant item lives in the same table).
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 200
    assert dynamodb_calls.count("GetItem:accounts") == 1
    clock.advance(PAST_THE_CACHE)
    assert_error(client.post(REFRESH, headers=bearer(tokens["refresh_token"])), 403, "mfa_enrollment_required")


def test_a_user_with_totp_keeps_refreshing(client, repos, alice, login, clock):
    access = bearer(login(alice)["access_token"])
    secret, _ = enrol(client, access, clock)
    tokens = log_in(client, alice, otp=now_code(secret, clock)).get_json()
    require_mfa(repos)
    clock.advance(PAST_THE_CACHE)
    assert client.post(REFRESH, headers=bearer(tokens["refresh_token"])).status_code == 200


def test_api_keys_are_not_affected(client, repos, make_user, login, make_key, clock):
    admin = make_user("admin-acme", role="admin")
    key = make_key(bearer(login(admin)["access_token"]))["key"]
    require_mfa(repos)
    clock.advance(PAST_THE_CACHE)
    assert client.get("/api/v1/me", headers=api_key(key)).status_code == 200
    sent = client.post("/api/v1/messages", json={"to": "+14155550123", "body": "hi"}, headers=api_key(key))
    assert sent.status_code == 201


def test_a_password_change_gives_no_fresh_tokens_to_a_user_who_must_enrol(client, repos, alice, login, clock):
    access = bearer(login(alice)["access_token"])  # issued before the requirement
    require_mfa(repos)
    clock.advance(PAST_THE_CACHE)
    body = {"current_password": alice.password, "new_password": "another long passphrase"}
    assert_error(client.post("/api/v1/me/password", json=body, headers=access), 403, "mfa_enrollment_required")
    assert log_in(client, alice, otp=None).status_code == 403  # the old password still stands: nothing changed
    assert client.post(LOGIN, json={"username": alice.username, "password": body["new_password"]}).status_code == 401


def test_when_dynamodb_cannot_say_whether_it_is_required_the_answer_is_503_not_a_token(
    client, repos, alice, login, clock
):
    tokens = login(alice)
    require_mfa(repos)
    repos.tenant_cache.clear()  # a fresh process: nothing known about the tenant yet
    tenant_key = {"S": "TENANT#acme"}

    def fail_tenant_reads(params, **_):
        if params.get("Key", {}).get("pk") == tenant_key:
            raise repos.db.client.exceptions.ProvisionedThroughputExceededException(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, "GetItem"
            )

    events = repos.db.client.meta.events
    events.register("before-parameter-build.dynamodb.GetItem", fail_tenant_reads)
    try:
        answer = client.post(REFRESH, headers=bearer(tokens["refresh_token"]))
    finally:
        events.unregister("before-parameter-build.dynamodb.GetItem", fail_tenant_reads)
    assert_error(answer, 503, "unavailable")
    assert "access_token" not in answer.get_data(as_text=True)
