"""Every way a token can be wrong gets a 401 envelope with a Bearer challenge, never a 422 or 500."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tests.conftest import assert_error, bearer

ISSUER = "https://api-message.nativehub.live"
AUDIENCE = "nativemessage-api"


def claims_for(account, **overrides):
    now = int(time.time())
    claims = {
        "sub": account.user_id,
        "tid": "acme",
        "role": "admin",
        "usr": account.username,
        "type": "access",
        "jti": "test-jti",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    claims.update(overrides)
    return claims


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
def account(make_user):
    return make_user("alice")


def test_a_well_formed_token_is_accepted(client, account, jwt_secret):
    # The control: the forgeries below differ from this in one respect each.
    token = jwt.encode(claims_for(account), jwt_secret, algorithm="HS256")
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda a, s: jwt.encode(claims_for(a), "x" * 48, algorithm="HS256"), id="other-secret"),
        pytest.param(lambda a, s: b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims_for(a)) + ".", id="alg-none"),
        pytest.param(lambda a, s: jwt.encode(claims_for(a), s, algorithm="HS512"), id="alg-hs512"),
        pytest.param(
            lambda a, s: ".".join(
                [
                    jwt.encode(claims_for(a), s, algorithm="HS256").split(".")[0],
                    b64(claims_for(a, role="admin", tid="other")),
                    jwt.encode(claims_for(a), s, algorithm="HS256").split(".")[2],
                ]
            ),
            id="tampered-payload",
        ),
        pytest.param(
            lambda a, s: jwt.encode(
                claims_for(a, iat=int(time.time()) - 1000, nbf=int(time.time()) - 1000, exp=int(time.time()) - 100),
                s,
                algorithm="HS256",
            ),
            id="expired",
        ),
        pytest.param(
            lambda a, s: jwt.encode(claims_for(a, iss="https://evil.example"), s, algorithm="HS256"), id="issuer"
        ),
        pytest.param(lambda a, s: jwt.encode(claims_for(a, aud="someone-else"), s, algorithm="HS256"), id="audience"),
        pytest.param(
            lambda a, s: jwt.encode(claims_for(a, type="refresh"), s, algorithm="HS256"), id="refresh-as-access"
        ),
        pytest.param(
            lambda a, s: jwt.encode({k: v for k, v in claims_for(a).items() if k != "tid"}, s, algorithm="HS256"),
            id="missing-tenant-claim",
        ),
        pytest.param(lambda a, s: "garbage", id="garbage"),
        pytest.param(lambda a, s: "a.b.c", id="three-garbage-segments"),
        pytest.param(lambda a, s: "", id="empty"),
    ],
)
def test_forged_access_tokens_are_refused(client, account, jwt_secret, forge):
    token = forge(account, jwt_secret)
    assert_error(client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}), 401, "invalid_token")


def test_access_token_used_as_refresh_token_is_refused(client, account, login):
    tokens = login(account)
    assert_error(client.post("/api/v1/auth/refresh", headers=bearer(tokens["access_token"])), 401, "invalid_token")


def test_refresh_token_used_as_access_token_is_refused(client, account, login):
    tokens = login(account)
    assert_error(client.get("/api/v1/me", headers=bearer(tokens["refresh_token"])), 401, "invalid_token")


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-credential"),
        pytest.param({"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}, id="basic-scheme"),
        pytest.param({"Authorization": "Bearer"}, id="bearer-without-token"),
        pytest.param({"Authorization": "Token abc"}, id="other-scheme"),
    ],
)
def test_missing_or_wrong_scheme_is_refused_with_a_plain_challenge(client, headers):
    response = client.get("/api/v1/me", headers=headers)
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="nativemessage"')


@pytest.mark.parametrize("missing", ["exp", "type", "tid", "jti"])
def test_signed_tokens_missing_a_required_claim_are_refused(client, make_user, jwt_secret, missing):
    account = make_user("alice")
    now = int(time.time())
    claims = {"sub": account.user_id, "tid": "acme", "role": "admin", "usr": "alice", "type": "access",
              "jti": "j", "iat": now, "nbf": now, "exp": now + 900,
              "iss": "https://api-message.nativehub.live", "aud": "nativemessage-api"}  # fmt: skip
    del claims[missing]
    token = jwt.encode(claims, jwt_secret, algorithm="HS256")
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "invalid_token")


# --- one verification per access token per process (issue 14) ---


def count_decodes(monkeypatch) -> list[str]:
    """Every PyJWT decode flask-jwt-extended makes, from now on."""
    import jwt.api_jwt

    decodes: list[str] = []
    original = jwt.api_jwt.PyJWT.decode_complete

    def counting(self, token, *args, **kwargs):
        decodes.append(token if isinstance(token, str) else token.decode())
        return original(self, token, *args, **kwargs)

    monkeypatch.setattr(jwt.api_jwt.PyJWT, "decode_complete", counting)
    return decodes


def test_an_access_token_is_verified_once_per_process(client, make_user, login, monkeypatch):
    tokens = login(make_user("alice", role="member"))
    decodes = count_decodes(monkeypatch)
    for _ in range(3):
        assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert decodes and set(decodes) == {tokens["access_token"]}
    first = len(decodes)
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert len(decodes) == first  # answered from the cache: no decode at all


def test_refresh_tokens_are_verified_on_every_use(client, make_user, login, monkeypatch):
    tokens = login(make_user("alice", role="member"))
    decodes = count_decodes(monkeypatch)
    for expected in (1, 2, 3):
        assert client.post("/api/v1/auth/refresh", headers=bearer(tokens["refresh_token"])).status_code == 200
        assert decodes.count(tokens["refresh_token"]) >= expected


def test_a_new_signing_secret_ends_cached_tokens_at_once(app, client, make_user, login):
    tokens = login(make_user("alice", role="member"))
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 200  # now cached
    app.extensions["nativemessage"].signing_secret._value = "a-brand-new-signing-secret-of-48-bytes-or-so-xyz"
    assert_error(client.get("/api/v1/me", headers=bearer(tokens["access_token"])), 401, "invalid_token")


def test_a_refresh_token_is_never_accepted_as_an_access_token_even_after_caching(client, make_user, login):
    tokens = login(make_user("alice", role="member"))
    assert client.get("/api/v1/me", headers=bearer(tokens["access_token"])).status_code == 200
    assert_error(client.get("/api/v1/me", headers=bearer(tokens["refresh_token"])), 401, "invalid_token")
