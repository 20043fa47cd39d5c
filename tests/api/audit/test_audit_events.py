"""The security audit log (issue 15, item 3): every event of the contract's list, read back over HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from models.passwords import hash_password
from tests.conftest import PASSWORD, assert_error, bearer, repositories_of

EVENTS = "/api/v1/audit-events"
BROWSER = {"User-Agent": "Mozilla/5.0 (audit test)", "X-Request-Id": "req-audit-1"}


def events(client, headers, **query):
    response = client.get(EVENTS, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_a_login_records_who_from_where_and_a_failure_never_the_password(client, make_user, admin):
    maria = make_user("maria", role="member")
    ok = client.post("/api/v1/auth/login", json={"username": "maria", "password": PASSWORD}, headers=BROWSER)
    assert ok.status_code == 200
    wrong = client.post("/api/v1/auth/login", json={"username": "MARIA", "password": "not the password 123"})
    assert wrong.status_code == 401

    items = events(client, admin, actor_id=maria.user_id)["items"]
    assert [item["action"] for item in items] == ["auth.login_failed", "auth.login_succeeded"]  # newest first
    failed, succeeded = items
    assert succeeded["actor"] == {"user_id": maria.user_id, "username": "maria", "auth": "password", "key_id": None}
    assert succeeded["target"] == {"type": "user", "id": maria.user_id}
    assert succeeded["user_agent"] == "Mozilla/5.0 (audit test)" and succeeded["request_id"] == "req-audit-1"
    assert succeeded["ip"] and succeeded["outcome"] == "success" and succeeded["details"] == {"via": "api"}
    assert failed["outcome"] == "failure" and failed["details"]["username_attempted"] == "MARIA"
    assert "not the password" not in json.dumps(items) and PASSWORD not in json.dumps(items)


def _user_in(app, username: str, role: str):
    repos = repositories_of(app)
    if username == "maria":
        repos.tenants.create("acme")
    return repos.users.create("acme", username, hash_password(PASSWORD), role)


def test_failed_logins_are_recorded_at_most_so_many_a_minute_per_account(app_with):
    app = app_with(audit_failed_logins_per_minute=2, login_failure_rate_limit="50 per 15 minutes")
    client = app.test_client()
    maria = _user_in(app, "maria", "member")
    _user_in(app, "boss", "admin")
    token = client.post("/api/v1/auth/login", json={"username": "boss", "password": PASSWORD}).get_json()
    admin = bearer(token["access_token"])
    for _ in range(6):
        assert client.post("/api/v1/auth/login", json={"username": "maria", "password": "x" * 12}).status_code == 401
    assert len(events(client, admin, action="auth.login_failed", actor_id=maria.user_id)["items"]) == 2


def test_user_changes_are_recorded_with_their_target_and_what_changed(client, admin, make_user):
    created = client.post(
        "/api/v1/users",
        json={"username": "new-hire", "password": "a long enough password", "role": "member"},
        headers=admin,
    ).get_json()
    user_id = created["id"]
    client.patch(f"/api/v1/users/{user_id}", json={"role": "viewer", "disabled": True}, headers=admin)
    client.patch(f"/api/v1/users/{user_id}", json={"disabled": False}, headers=admin)
    client.patch(f"/api/v1/users/{user_id}", json={"role": "viewer"}, headers=admin)  # no change: no event

    about = [item for item in events(client, admin)["items"] if (item["target"] or {}).get("id") == user_id]
    assert [item["action"] for item in about] == ["user.enabled", "user.disabled", "user.role_changed", "user.created"]
    assert about[2]["details"] == {"from": "member", "to": "viewer"}
    assert about[3]["details"] == {"role": "member", "username": "new-hire"}
    assert {item["actor"]["username"] for item in about} == {"admin-acme"}
    assert "a long enough password" not in json.dumps(about)


def test_key_events_name_the_key_and_never_hold_it(client, admin, make_key):
    made = make_key(admin, name="ci")
    rotated = client.post(f"/api/v1/api-keys/{made['id']}/rotate", json={"grace_seconds": 60}, headers=admin).get_json()
    client.delete(f"/api/v1/api-keys/{rotated['id']}", headers=admin)
    client.delete(f"/api/v1/api-keys/{rotated['id']}", headers=admin)  # already revoked: nothing new

    items = [item for item in events(client, admin)["items"] if item["action"].startswith("api_key.")]
    assert [item["action"] for item in items] == ["api_key.revoked", "api_key.rotated", "api_key.created"]
    revoked, rotation, creation = items
    assert creation["target"] == {"type": "api_key", "id": made["id"]} and creation["details"] == {"name": "ci"}
    assert rotation["target"]["id"] == made["id"]
    assert rotation["details"] == {"grace_seconds": 60, "new_key_id": rotated["id"]}
    assert revoked["target"]["id"] == rotated["id"]
    text = json.dumps(items)
    assert made["key"] not in text and rotated["key"] not in text


def test_logout_and_logout_all_are_recorded(client, make_user, login, admin):
    maria = make_user("maria", role="member")
    tokens = login(maria)
    assert client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"])).status_code == 204
    assert client.post("/api/v1/auth/logout-all", headers=bearer(login(maria)["access_token"])).status_code == 204
    items = events(client, admin, actor_id=maria.user_id)["items"]
    signed_out = [item for item in items if not item["action"].startswith("auth.login")]
    assert [item["action"] for item in signed_out] == ["auth.logout_all", "auth.logout"]
    assert [item["actor"]["auth"] for item in signed_out] == ["jwt", "refresh_token"]


def test_pages_are_newest_first_without_gaps_or_repeats(client, admin, make_key):
    for n in range(7):
        make_key(admin, name=f"k{n}")
    seen, cursor = [], None
    while True:
        page = events(client, admin, action="api_key.created", limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [item["details"]["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"k{n}" for n in reversed(range(7))]


def test_time_bounds_select_events(client, admin, make_key, repos, clock):
    make_key(admin, name="early")
    clock.advance(3600)
    middle = repos.now()
    make_key(admin, name="late")
    late = events(client, admin, action="api_key.created", since=middle.isoformat())["items"]
    early = events(client, admin, action="api_key.created", until=(middle - timedelta(seconds=1)).isoformat())["items"]
    assert [item["details"]["name"] for item in late] == ["late"]
    assert [item["details"]["name"] for item in early] == ["early"]


def test_bad_filters_and_cursors_are_400_envelopes(client, admin, make_user, login):
    for query in (
        {"action": "user.exploded"},
        {"actor_id": "not-a-user"},
        {"since": "2026-01-02T00:00:00+00:00", "until": "2026-01-01T00:00:00+00:00"},
        {"since": "yesterday"},
        {"limit": 0},
        {"cursor": "forged.cursor"},
    ):
        assert_error(client.get(EVENTS, headers=admin, query_string=query), 400, "invalid_request")
    other = bearer(login(make_user("globex-admin", role="admin", tenant="globex"))["access_token"])
    for n in range(3):
        client.post("/api/v1/api-keys", json={"name": f"g{n}"}, headers=other)
    their_cursor = events(client, other, limit=1)["next_cursor"]
    assert_error(client.get(EVENTS, headers=admin, query_string={"cursor": their_cursor}), 400, "invalid_request")


def test_only_admins_read_it_and_only_their_tenants(client, make_user, login, admin, make_key):
    member = bearer(login(make_user("maria", role="member"))["access_token"])
    assert_error(client.get(EVENTS, headers=member), 403, "insufficient_scope")
    other = bearer(login(make_user("globex-admin", role="admin", tenant="globex"))["access_token"])
    make_key(other, name="globex key")
    assert all(item["details"].get("name") != "globex key" for item in events(client, admin)["items"])


def test_events_expire_after_the_configured_retention(app_with):
    app = app_with(audit_retention_days=30)
    _user_in(app, "maria", "member")
    assert (
        app.test_client().post("/api/v1/auth/login", json={"username": "maria", "password": PASSWORD}).status_code
        == 200
    )
    repos = repositories_of(app)
    event = repos.audit.page("acme", limit=1).items[0]
    assert event.expires_at == (datetime.fromisoformat(event.time) + timedelta(days=30)).timestamp()


def test_password_changes_and_resets_are_recorded_never_the_passwords(client, make_user, login, admin):
    maria = make_user("maria", role="member")
    bob = make_user("bob", role="member")
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
        headers=bearer(login(maria)["access_token"]),
    )
    assert changed.status_code == 200
    reset = client.post(
        f"/api/v1/users/{bob.user_id}/password", json={"new_password": "reset by the admin"}, headers=admin
    )
    assert reset.status_code == 204

    items = events(client, admin)["items"]
    by_action = {item["action"]: item for item in items}
    own = by_action["user.password_changed"]
    assert own["actor"]["user_id"] == maria.user_id and own["target"] == {"type": "user", "id": maria.user_id}
    assert own["details"] == {"via": "api"}
    by_admin = by_action["user.password_reset"]
    assert by_admin["actor"]["username"] == "admin-acme" and by_admin["target"] == {"type": "user", "id": bob.user_id}
    text = json.dumps(items)
    assert "a brand new passphrase" not in text and "reset by the admin" not in text and PASSWORD not in text
