"""One structured JSON line per request, with no secret in it."""

from __future__ import annotations

import io
import json
import logging

from handlers.web.request_log import JsonFormatter, configure_logging
from tests.conftest import bearer


def request_lines(caplog):
    return [record for record in caplog.records if record.name == "nativemessage.request"]


def test_one_json_line_per_request_with_the_documented_fields(client, make_user, login, caplog):
    tokens = login(make_user("alice"))
    caplog.clear()
    with caplog.at_level(logging.INFO):
        client.get("/api/v1/me", headers=bearer(tokens["access_token"]))

    (record,) = request_lines(caplog)
    line = json.loads(JsonFormatter().format(record))
    assert line["method"] == "GET" and line["path"] == "/api/v1/me" and line["status"] == 200
    assert line["tenant"] == "acme" and line["auth"] == "jwt"
    assert isinstance(line["duration_ms"], float) and line["request_id"]


def test_no_password_or_token_in_any_log_line(client, make_user, caplog):
    account = make_user("alice")
    with caplog.at_level(logging.DEBUG):
        tokens = client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password}).get_json()
        client.get("/api/v1/me", headers=bearer(tokens["access_token"]))
        client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"]))
        client.post("/api/v1/auth/logout", headers=bearer(tokens["refresh_token"]))
        client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong-password-here"})

    text = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert len(request_lines(caplog)) == 5
    for secret in (account.password, "wrong-password-here", tokens["access_token"], tokens["refresh_token"]):
        assert secret not in text
    assert "argon2" not in text


def test_on_lambda_each_line_is_formatted_and_written_once(monkeypatch):
    # Lambda's runtime puts its own handler on the root logger; a second one would double every line.
    root = logging.getLogger()
    stream = io.StringIO()
    runtime_handler = logging.StreamHandler(stream)
    monkeypatch.setattr(root, "handlers", [runtime_handler])
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "nativemessage-production")
    configure_logging("INFO")
    logging.getLogger("nativemessage.request").info("request", extra={"fields": {"status": 200}})
    assert root.handlers == [runtime_handler]
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["status"] == 200
