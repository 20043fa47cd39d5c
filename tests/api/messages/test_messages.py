"""Messages over HTTP: send and read with a JWT or a key, tenant isolation, idempotency, paging."""

from __future__ import annotations

import pytest

from tests.conftest import api_key, assert_error, bearer

pytestmark = pytest.mark.dynamodb_local

MESSAGE = {"to": "+14155550123", "body": "Your code is 123456"}


@pytest.fixture
def member(make_user, login):
    account = make_user("maria", role="member")
    return account, bearer(login(account)["access_token"])


def send(client, headers, **overrides):
    return client.post("/api/v1/messages", json={**MESSAGE, **overrides}, headers=headers)


def test_send_and_read_back_with_a_jwt(client, member):
    account, headers = member
    response = send(client, headers)

    assert response.status_code == 201
    message = response.get_json()
    assert message["id"].startswith("msg_") and message["status"] == "queued"
    assert (message["to"], message["body"]) == (MESSAGE["to"], MESSAGE["body"])
    assert message["created_by"] == account.user_id and message["key_id"] is None
    assert response.headers["Location"] == f"/api/v1/messages/{message['id']}"
    assert client.get(f"/api/v1/messages/{message['id']}", headers=headers).get_json() == message
    assert client.get("/api/v1/messages", headers=headers).get_json() == {"items": [message], "next_cursor": None}


def test_send_and_read_back_with_an_api_key(client, member, make_key):
    account, headers = member
    key = make_key(headers)
    response = send(client, api_key(key["key"]))

    assert response.status_code == 201
    message = response.get_json()
    assert message["created_by"] == account.user_id and message["key_id"] == key["id"]
    assert client.get(f"/api/v1/messages/{message['id']}", headers=api_key(key["key"])).status_code == 200
    assert client.get("/api/v1/messages", headers=api_key(key["key"])).get_json()["items"] == [message]


def test_viewer_can_read_but_not_send(client, member, make_user, login):
    _, member_headers = member
    sent = send(client, member_headers).get_json()
    viewer = bearer(login(make_user("vera", role="viewer"))["access_token"])

    assert_error(send(client, viewer), 403, "insufficient_scope")
    assert client.get(f"/api/v1/messages/{sent['id']}", headers=viewer).status_code == 200
    assert [m["id"] for m in client.get("/api/v1/messages", headers=viewer).get_json()["items"]] == [sent["id"]]


def test_a_keys_rights_follow_its_creators_role(client, member, admin, make_key):
    account, headers = member
    key = api_key(make_key(headers)["key"])
    assert send(client, key).status_code == 201

    client.patch(f"/api/v1/users/{account.user_id}", json={"role": "viewer"}, headers=admin)

    assert_error(send(client, key), 403, "insufficient_scope")
    assert client.get("/api/v1/messages", headers=key).status_code == 200


def test_a_read_only_key_cannot_send(client, member, make_key):
    _, headers = member
    key = api_key(make_key(headers, permissions=["messages:read"])["key"])
    assert_error(send(client, key), 403, "insufficient_scope")
    assert client.get("/api/v1/messages", headers=key).status_code == 200


def test_tenant_isolation(client, member, make_user, login):
    _, acme = member
    ours = send(client, acme).get_json()
    globex = bearer(login(make_user("olga", role="member", tenant="globex"))["access_token"])
    theirs = send(client, globex).get_json()

    assert_error(client.get(f"/api/v1/messages/{theirs['id']}", headers=acme), 404, "not_found")
    assert [m["id"] for m in client.get("/api/v1/messages", headers=acme).get_json()["items"]] == [ours["id"]]
    assert [m["id"] for m in client.get("/api/v1/messages", headers=globex).get_json()["items"]] == [theirs["id"]]


def test_another_tenants_cursor_shows_nothing_of_theirs(client, member, make_user, login):
    _, acme = member
    for _ in range(3):
        send(client, acme)
    acme_cursor = client.get("/api/v1/messages?limit=1", headers=acme).get_json()["next_cursor"]
    globex = bearer(login(make_user("olga", role="member", tenant="globex"))["access_token"])
    send(client, globex)

    response = client.get(f"/api/v1/messages?cursor={acme_cursor}", headers=globex)

    assert_error(response, 400, "invalid_request")
    assert "msg_" not in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/api/v1/messages/not-an-id", "/api/v1/messages/msg_01ARZ3NDEKTSV4RRFFQ69G5FAV"])
def test_invalid_or_unknown_ids_are_404(client, member, path):
    assert_error(client.get(path, headers=member[1]), 404, "not_found")


def test_idempotent_replay_returns_the_first_message_and_stores_one(client, member):
    _, headers = member
    keyed = {**headers, "Idempotency-Key": "order-42-confirmation"}
    first = client.post("/api/v1/messages", json=MESSAGE, headers=keyed)
    again = client.post("/api/v1/messages", json=MESSAGE, headers=keyed)

    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert len(client.get("/api/v1/messages", headers=headers).get_json()["items"]) == 1


def test_same_key_different_body_is_a_conflict(client, member):
    _, headers = member
    keyed = {**headers, "Idempotency-Key": "order-42-confirmation"}
    client.post("/api/v1/messages", json=MESSAGE, headers=keyed)

    response = client.post("/api/v1/messages", json={**MESSAGE, "body": "Something else"}, headers=keyed)

    assert_error(response, 409, "conflict")
    assert len(client.get("/api/v1/messages", headers=headers).get_json()["items"]) == 1


def test_idempotency_keys_are_per_tenant(client, member, make_user, login):
    _, acme = member
    globex = bearer(login(make_user("olga", role="member", tenant="globex"))["access_token"])
    a = client.post("/api/v1/messages", json=MESSAGE, headers={**acme, "Idempotency-Key": "k1"}).get_json()
    b = client.post("/api/v1/messages", json=MESSAGE, headers={**globex, "Idempotency-Key": "k1"}).get_json()
    assert a["id"] != b["id"]


def test_an_idempotency_key_is_free_again_after_24_hours(client, member, clock):
    _, headers = member
    keyed = {**headers, "Idempotency-Key": "daily-digest"}
    first = client.post("/api/v1/messages", json=MESSAGE, headers=keyed).get_json()
    clock.advance(24 * 3600)
    second = client.post("/api/v1/messages", json={**MESSAGE, "body": "new day"}, headers=keyed)
    assert second.status_code == 201 and second.get_json()["id"] != first["id"]


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ünïcode"])
def test_bad_idempotency_keys_are_400(client, member, key):
    _, headers = member
    response = client.post("/api/v1/messages", json=MESSAGE, headers={**headers, "Idempotency-Key": key})
    assert_error(response, 400, "invalid_request")
    assert client.get("/api/v1/messages", headers=headers).get_json()["items"] == []


def test_seven_messages_are_walked_once_each_in_order(client, member):
    _, headers = member
    sent = [send(client, headers, body=f"message {n}").get_json()["id"] for n in range(7)]

    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/messages?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers).get_json()
        pages += 1
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(sent))
    assert pages == 4


def test_messages_sent_while_paging_neither_repeat_nor_hide_earlier_ones(client, member):
    _, headers = member
    earlier = [send(client, headers, body=f"m{n}").get_json()["id"] for n in range(5)]
    first = client.get("/api/v1/messages?limit=2", headers=headers).get_json()
    later = [send(client, headers, body=f"new{n}").get_json()["id"] for n in range(3)]

    seen, cursor = [m["id"] for m in first["items"]], first["next_cursor"]
    while cursor:
        page = client.get(f"/api/v1/messages?limit=2&cursor={cursor}", headers=headers).get_json()
        seen += [m["id"] for m in page["items"]]
        cursor = page["next_cursor"]

    assert seen == list(reversed(earlier))
    assert not set(later) & set(seen)
    newest = client.get("/api/v1/messages?limit=3", headers=headers).get_json()["items"]
    assert [m["id"] for m in newest] == list(reversed(later))


def test_exactly_a_full_last_page_has_no_next_cursor(client, member):
    _, headers = member
    for n in range(4):
        send(client, headers, body=str(n))
    second = client.get(
        "/api/v1/messages?limit=2&cursor="
        + client.get("/api/v1/messages?limit=2", headers=headers).get_json()["next_cursor"],
        headers=headers,
    ).get_json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"to": "4155550123"}, "to"),
        ({"to": "+0155550123"}, "to"),
        ({"to": "+1415555012345678"}, "to"),
        ({"to": "+1 415 555 0123"}, "to"),
        ({"body": ""}, "body"),
        ({"body": "x" * 4097}, "body"),
        ({"body": 42}, "body"),
        ({"tenant_id": "globex"}, "tenant_id"),
    ],
)
def test_invalid_messages_are_400_with_details_and_store_nothing(client, member, body, field):
    _, headers = member
    error = assert_error(
        client.post("/api/v1/messages", json={**MESSAGE, **body}, headers=headers), 400, "invalid_request"
    )
    assert field in {detail["field"] for detail in error["details"]}
    assert client.get("/api/v1/messages", headers=headers).get_json()["items"] == []


def test_a_4096_character_body_is_accepted(client, member):
    assert send(client, member[1], body="é" * 4096).status_code == 201


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=two", "cursor=garbage", "cursor="])
def test_invalid_paging_is_400(client, member, query):
    _, headers = member
    send(client, headers)
    response = client.get(f"/api/v1/messages?{query}", headers=headers)
    if query == "cursor=":
        assert response.status_code == 200  # an empty cursor is the first page
    else:
        assert_error(response, 400, "invalid_request")


def test_a_tampered_cursor_is_400(client, member):
    _, headers = member
    for _ in range(3):
        send(client, headers)
    cursor = client.get("/api/v1/messages?limit=1", headers=headers).get_json()["next_cursor"]
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    assert_error(client.get(f"/api/v1/messages?cursor={tampered}", headers=headers), 400, "invalid_request")
