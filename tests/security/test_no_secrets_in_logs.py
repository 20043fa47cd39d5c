"""Every log line of a full flow, at DEBUG: no password, token, API key, digest or hash ever appears."""

from __future__ import annotations

import logging
import re
import threading

import requests

from handlers.web.request_log import JsonFormatter
from models.key_format import key_digest
from models.mfa import STEP_SECONDS, code_at, time_step
from tests.conftest import api_key, bearer

KEY = re.compile(r"nmk_test_[0-9A-Za-z]{36}")


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, html
    return match.group(1)


def test_a_full_flow_logs_no_secret(client, repos, make_user, caplog):
    account = make_user("alice", role="admin")
    secrets_seen: list[str] = [account.password, "wrong password for alice"]
    with caplog.at_level(logging.DEBUG):
        client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong password for alice"})
        tokens = client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password}).get_json()
        refreshed = client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).get_json()
        headers = bearer(refreshed["access_token"])
        created = client.post("/api/v1/api-keys", json={"name": "worker"}, headers=headers).get_json()
        client.get("/api/v1/me", headers=api_key(created["key"]))
        client.post("/api/v1/messages", json={"to": "+14155550123", "body": "hi"}, headers=api_key(created["key"]))
        rotated = client.post(f"/api/v1/api-keys/{created['id']}/rotate", headers=headers).get_json()
        client.get("/api/v1/me", headers=api_key("nmk_test_" + "x" * 36))
        client.post(
            "/api/v1/users", json={"username": "bob", "password": "bob's own long password", "role": "member"},
            headers=headers,
        )  # fmt: skip
        secrets_seen.append("bob's own long password")
        # The dashboard: log in, generate a key, log out.
        login_form = client.get("/dashboard").get_data(as_text=True)
        client.post(
            "/dashboard/login",
            data={"csrf_token": hidden(login_form, "csrf_token"), "username": "alice", "password": account.password},
        )
        keys_page = client.get("/dashboard/settings/api-keys/new").get_data(as_text=True)
        shown = client.post(
            "/dashboard/settings/api-keys",
            data={"csrf_token": hidden(keys_page, "csrf_token"), "form_id": hidden(keys_page, "form_id"), "name": "ui"},
        ).get_data(as_text=True)
        dashboard_key = KEY.search(shown).group(0)
        client.post("/dashboard/logout", data={"csrf_token": hidden(keys_page, "csrf_token")})
        client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"]))

    formatter = JsonFormatter()
    text = "\n".join(formatter.format(record) for record in caplog.records)
    assert len([r for r in caplog.records if r.name == "nativemessage.request"]) >= 15
    keys = [created["key"], rotated["key"], dashboard_key]
    secrets_seen += [tokens["access_token"], tokens["refresh_token"], refreshed["access_token"], *keys]
    secrets_seen += [key_digest(key) for key in keys]
    secrets_seen += [repos.users.find_by_username(name).password_hash for name in ("alice", "bob")]
    for secret in secrets_seen:
        assert secret not in text
    # Pieces long enough to identify a token are not logged either (e.g. a JWT's signature part).
    for token in (tokens["access_token"], tokens["refresh_token"]):
        for part in token.split("."):
            assert part not in text
    assert repos.signing_secret.get() not in text


def test_password_changes_and_resets_log_no_secret(client, repos, make_user, login, caplog):
    alice, bob = make_user("alice", role="admin"), make_user("bob", role="member")
    tokens = login(alice)
    typed = [alice.password, "alice's wrong guess", "alice's second password", "alice's third password"]
    typed += ["bob's reset password"]
    with caplog.at_level(logging.DEBUG):
        for current in typed[1], typed[0]:
            body = {"current_password": current, "new_password": typed[2]}
            answer = client.post("/api/v1/me/password", json=body, headers=bearer(tokens["access_token"]))
        fresh = answer.get_json()
        body = {"new_password": typed[4]}
        client.post(f"/api/v1/users/{bob.user_id}/password", json=body, headers=bearer(fresh["access_token"]))
        # The dashboard's form: a wrong current password, then the right one.
        login_form = client.get("/dashboard").get_data(as_text=True)
        client.post(
            "/dashboard/login",
            data={"csrf_token": hidden(login_form, "csrf_token"), "username": "alice", "password": typed[2]},
        )
        csrf = hidden(client.get("/dashboard/settings").get_data(as_text=True), "csrf_token")
        for current in typed[1], typed[2]:
            form = {"csrf_token": csrf, "current_password": current, "new_password": typed[3]}
            client.post("/dashboard/settings/password", data={**form, "confirm_password": typed[3]})

    for name, password in (("alice", typed[3]), ("bob", typed[4])):  # every change happened
        assert client.post("/api/v1/auth/login", json={"username": name, "password": password}).status_code == 200
    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert len([r for r in caplog.records if r.name == "nativemessage.request"]) >= 7
    hashes = [repos.users.find_by_username(name).password_hash for name in ("alice", "bob")]
    for secret in [*typed, *hashes, fresh["access_token"], fresh["refresh_token"]]:
        assert secret not in text
    assert fresh["refresh_token"].split(".")[2] not in text


def test_flask_runs_access_log_keeps_the_path_not_the_query(app, caplog):
    # `make run` serves with Werkzeug's development server, whose access line used to show the URL whole.
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            url = f"http://127.0.0.1:{server.server_port}/api/v1/me?api_key=nmk_test_inTheUrlByMistake&x=1"
            assert requests.get(url, timeout=10).status_code == 401
    finally:
        server.shutdown()
        thread.join(timeout=10)
    lines = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    assert any("GET /api/v1/me HTTP/1.1" in line for line in lines), lines
    assert not any("inTheUrlByMistake" in line or "?" in line for line in lines), lines


def test_two_factor_flows_log_no_secret_code_or_recovery_code(client, repos, make_user, login, clock, caplog):
    alice = make_user("alice", role="member")
    headers = bearer(login(alice)["access_token"])
    seen: list[str] = []
    with caplog.at_level(logging.DEBUG):
        started = client.post("/api/v1/me/mfa/totp", headers=headers).get_json()
        secret = started["secret"]
        code = code_at(secret, time_step(clock.now()))
        codes = client.post("/api/v1/me/mfa/totp/confirm", json={"code": code}, headers=headers).get_json()
        recovery = codes["recovery_codes"]
        clock.advance(STEP_SECONDS)
        credentials = {"username": "alice", "password": alice.password}
        wrong = code_at(secret, time_step(clock.now()) + 4)
        for otp in (wrong, code_at(secret, time_step(clock.now())), recovery[0]):
            client.post("/api/v1/auth/login", json={**credentials, "otp": otp})
            seen.append(otp)
        # The dashboard: the password, then a recovery code on the code page.
        login_form = client.get("/dashboard").get_data(as_text=True)
        client.post("/dashboard/login", data={"csrf_token": hidden(login_form, "csrf_token"), **credentials})
        code_page = client.get("/dashboard/login/code").get_data(as_text=True)
        client.post("/dashboard/login/code", data={"csrf_token": hidden(code_page, "csrf_token"), "code": recovery[1]})
        clock.advance(STEP_SECONDS)
        disable = {"password": alice.password, "code": code_at(secret, time_step(clock.now()))}
        assert client.post("/api/v1/me/mfa/totp/disable", json=disable, headers=headers).status_code == 204
        seen.append(disable["code"])

    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert len([r for r in caplog.records if r.name == "nativemessage.request"]) >= 8
    for value in [secret, started["otpauth_uri"], code, *recovery, *seen, alice.password]:
        # Whole words only: six digits may turn up inside a random request id by chance, not as a code.
        assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(value)}(?![0-9A-Za-z])", text), value
