"""flask-jwt-extended: token lifetimes, the signing key, the revocation check and its errors as the envelope."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from typing import Any

from flask import Flask, Response, request
from flask_jwt_extended import JWTManager, create_access_token, create_refresh_token

from config import Settings
from handlers.web.context import repositories, request_state
from handlers.web.errors import error_response
from models.users import User

jwt = JWTManager()


def init_tokens(app: Flask, settings: Settings) -> None:
    """Configure flask-jwt-extended for ``app`` and bind it."""
    app.config.update(
        JWT_TOKEN_LOCATION=["headers"],
        JWT_ALGORITHM="HS256",
        JWT_DECODE_ALGORITHMS=["HS256"],
        JWT_ACCESS_TOKEN_EXPIRES=timedelta(seconds=settings.access_token_ttl_seconds),
        JWT_REFRESH_TOKEN_EXPIRES=timedelta(seconds=settings.refresh_token_ttl_seconds),
        JWT_ENCODE_ISSUER=settings.jwt_issuer,
        JWT_DECODE_ISSUER=settings.jwt_issuer,
        JWT_ENCODE_AUDIENCE=settings.jwt_audience,
        JWT_DECODE_AUDIENCE=settings.jwt_audience,
        JWT_DECODE_LEEWAY=0,
        JWT_ERROR_MESSAGE_KEY="message",
        # Header tokens only: no cookie, so no double-submit CSRF claim in every token.
        JWT_COOKIE_CSRF_PROTECT=False,
    )
    jwt.init_app(app)
    app.before_request(_normalise_bearer_scheme)


def access_token_for(user: User) -> str:
    """An access token of ``user`` (15 minutes by default): all an authenticated request needs, so no read."""
    token: str = create_access_token(
        identity=user.user_id,
        additional_claims={"tid": user.tenant_id, "role": user.role, "usr": user.username},
    )
    return token


def refresh_token_for(user: User) -> str:
    """A refresh token of ``user`` (7 days by default), stamped with their current session generation."""
    token: str = create_refresh_token(
        identity=user.user_id,
        additional_claims={"tid": user.tenant_id, "usr": user.username, "gen": user.session_generation},
    )
    return token


def _normalise_bearer_scheme() -> None:
    # RFC 9110: an authentication scheme's name is case-insensitive ("bearer", "BEARER"), while
    # flask-jwt-extended compares it with "Bearer" exactly; so it is spelled that way before anyone reads it.
    header = request.environ.get("HTTP_AUTHORIZATION")
    if isinstance(header, str):
        scheme, separator, credentials = header.partition(" ")
        if separator and scheme != "Bearer" and scheme.lower() == "bearer":
            request.environ["HTTP_AUTHORIZATION"] = f"Bearer {credentials}"


@jwt.encode_key_loader
def _encode_key(_identity: Any) -> str:
    return repositories().signing_secret.get()


@jwt.decode_key_loader
def _decode_key(_header: dict, _payload: dict) -> str:
    return repositories().signing_secret.get()


@jwt.token_in_blocklist_loader
def _is_revoked(_header: dict, payload: dict) -> bool:
    # Only refresh tokens can be revoked (logout); checking access tokens would cost every
    # request a DynamoDB read for a token that lives 15 minutes.
    if payload.get("type") != "refresh":
        return False
    # From here on the credential costs a read: a refused one is counted like a guessed API key.
    request_state().credential_looked_up = True
    return repositories().revoked_tokens.is_revoked(str(payload.get("jti", "")))


REQUIRED_CLAIMS = ("exp", "iat", "jti", "type", "sub", "tid")


# A compact JWS: three base64url segments (PyJWT accepts up to two '=' of padding on each).
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+={0,2}\.([A-Za-z0-9_-]+={0,2})\.[A-Za-z0-9_-]+={0,2}")


@jwt.token_verification_loader
def _has_required_claims(_header: dict, payload: dict) -> bool:
    # PyJWT checks exp only when present (a signed token without one would live forever), and
    # flask-jwt-extended fills in a missing type ("access") and jti: so look at the token as sent.
    sent = claims_as_sent()
    return sent is not None and all(name in sent and name in payload for name in REQUIRED_CLAIMS)


def claims_as_sent() -> dict | None:
    """The payload of this request's bearer token as sent, unverified; None unless it is a compact JWS."""
    # Called once flask-jwt-extended has verified this token's signature: its payload segment is
    # read as is, rather than having PyJWT parse the whole token once more (its fifth parse).
    _scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    match = COMPACT_JWS.fullmatch(token)
    if match is None:
        return None
    segment = match.group(1).rstrip("=")
    try:
        claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except ValueError:  # not base64, not UTF-8 or not JSON
        return None
    return claims if isinstance(claims, dict) else None


@jwt.unauthorized_loader
def _missing_credentials(message: str) -> Response:
    return error_response(
        401,
        "invalid_token",
        f"Authentication required: {message}",
        headers={"WWW-Authenticate": 'Bearer realm="nativemessage"'},
    )


@jwt.invalid_token_loader
def _invalid_token(message: str) -> Response:
    return error_response(401, "invalid_token", f"The token is invalid: {message}")


@jwt.expired_token_loader
def _expired_token(_header: dict, _payload: dict) -> Response:
    return error_response(401, "invalid_token", "The token has expired")


@jwt.revoked_token_loader
def _revoked_token(_header: dict, _payload: dict) -> Response:
    return error_response(401, "invalid_token", "The token has been revoked")


@jwt.needs_fresh_token_loader
def _needs_fresh_token(_header: dict, _payload: dict) -> Response:
    return error_response(401, "invalid_token", "A fresh token is required")


@jwt.token_verification_failed_loader
def _verification_failed(_header: dict, _payload: dict) -> Response:
    return error_response(401, "invalid_token", "The token failed verification")


@jwt.user_lookup_error_loader
def _user_lookup_error(_header: dict, _payload: dict) -> Response:
    return error_response(401, "invalid_token", "The token's user no longer exists")
