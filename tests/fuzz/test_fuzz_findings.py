"""What schema fuzzing found, pinned as fast tests (the fuzzing itself is test_schemathesis.py)."""

from __future__ import annotations

import re

from tests.conftest import assert_error, bearer


def _cursor_parameter(client) -> dict:
    listing = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/messages"]["get"]
    (cursor,) = [parameter for parameter in listing["parameters"] if parameter["name"] == "cursor"]
    (string,) = [option for option in cursor["schema"]["anyOf"] if option.get("type") == "string"]
    return string


def test_the_document_says_what_a_cursor_is_made_of(client, make_user, login):
    # Found: the document allowed any 1,024 characters, so a schema-valid cursor of 4-byte characters
    # made a 12 KB request line, which gunicorn refuses with its own HTML 414 before the app sees it.
    headers = bearer(login(make_user("cursor-reader", role="member"))["access_token"])
    for number in range(2):
        sent = client.post("/api/v1/messages", json={"to": "+14155550123", "body": f"m{number}"}, headers=headers)
        assert sent.status_code == 201
    cursor = client.get("/api/v1/messages?limit=1", headers=headers).get_json()["next_cursor"]

    documented = _cursor_parameter(client)
    assert re.fullmatch(documented["pattern"], cursor), cursor
    assert len(cursor) <= documented["maxLength"]
    assert client.get(f"/api/v1/messages?limit=1&cursor={cursor}", headers=headers).status_code == 200


def test_a_cursor_outside_the_documented_alphabet_is_refused_by_validation(client, make_user, login):
    headers = bearer(login(make_user("cursor-guesser", role="member"))["access_token"])
    error = assert_error(
        client.get("/api/v1/messages", query_string={"cursor": "Ò" * 1024}, headers=headers), 400, "invalid_request"
    )
    assert [detail["field"] for detail in error["details"]] == ["cursor"]
    # The empty cursor is still the first page.
    assert client.get("/api/v1/messages?cursor=", headers=headers).status_code == 200
