"""Login, refresh and logout: the JWT flow of the public documentation page."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, g, request
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt, verify_jwt_in_request

from handlers.endpoint import BEARER, endpoint, json_response
from handlers.errors import Unauthorized
from handlers.extensions import ACCESS_TOKEN_SECONDS
from handlers.rate_limits import client_ip, limiter
from handlers.schemas import AccessToken, ErrorEnvelope, LoginRequest, TokenPair
from handlers.services import services
from models.errors import StoreUnavailable
from models.keys import username_key
from models.passwords import hash_password, needs_rehash, verify_password
from models.users import User

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")

# Tokens must never sit in a browser or proxy cache.
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
BAD_CREDENTIALS = "Invalid username or password"


@bp.post("/login")
@limiter.limit(lambda: services().settings.login_ip_rate_limit, key_func=client_ip, scope="login-ip")
@limiter.limit(
    lambda: services().settings.login_failure_rate_limit,
    key_func=lambda: _login_username(),
    scope="login-failures",
    # Only failed attempts count: a user who logs in often is not locked out.
    deduct_when=lambda response: response.status_code == 401,
)
@endpoint(body=LoginRequest, responses={200: TokenPair, 401: ErrorEnvelope}, tags=("auth",))
def login(body: LoginRequest) -> Response:
    """Exchange a username and password for an access and a refresh token."""
    user = check_credentials(body.username, body.password)
    if user is None:
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    g.log_tenant = user.tenant_id
    tokens = TokenPair(
        access_token=_access_token(user),
        refresh_token=create_refresh_token(
            identity=user.user_id, additional_claims={"tid": user.tenant_id, "usr": user.username}
        ),
        expires_in=ACCESS_TOKEN_SECONDS,
    )
    return json_response(tokens, headers=NO_STORE)


@bp.post("/refresh")
@endpoint(responses={200: AccessToken}, tags=("auth",), security=[BEARER])
def refresh() -> Response:
    """Issue a new access token for a valid, unrevoked refresh token of an active user."""
    user = _refresh_token_user()
    return json_response(
        AccessToken(access_token=_access_token(user), expires_in=ACCESS_TOKEN_SECONDS), headers=NO_STORE
    )


@bp.post("/logout")
@endpoint(responses={204: None}, tags=("auth",), security=[BEARER])
def logout() -> Response:
    """Revoke the refresh token presented; later refreshes with it get 401."""
    verify_jwt_in_request(refresh=True)
    claims = get_jwt()
    g.log_tenant = claims.get("tid")
    services().revoked_tokens.revoke(str(claims["jti"]), int(claims["exp"]))
    return Response(status=204, headers=NO_STORE)


def check_credentials(username: str, password: str) -> User | None:
    """The active user with this username and password, or None (the API's and the dashboard's login)."""
    user = services().users.find_by_username(username)
    # Verified even for an unknown user (against a dummy hash) so both answers take as long.
    password_ok = verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or user.disabled:
        return None
    _upgrade_hash_if_needed(user, password)
    return user


def _login_username() -> str:
    try:
        payload = request.get_json(silent=True)
    except Exception:  # too large or too deep: validation answers it; a key function must not raise
        payload = None
    username = payload.get("username") if isinstance(payload, dict) else None
    # A body without a username is refused by validation; count it against the IP instead.
    if isinstance(username, str) and 0 < len(username) <= 256:
        return f"user:{username_key(username)}"
    return f"ip:{client_ip()}"


def _refresh_token_user() -> User:
    verify_jwt_in_request(refresh=True)
    claims = get_jwt()
    username = claims.get("usr")
    user = services().users.find_by_username(username) if isinstance(username, str) else None
    # The username may since belong to someone else: the id and tenant must match too.
    if user is None or user.user_id != claims.get("sub") or user.tenant_id != claims.get("tid") or user.disabled:
        raise Unauthorized("The token's user is disabled or no longer exists")
    g.log_tenant = user.tenant_id
    return user


def _access_token(user: User) -> str:
    return create_access_token(
        identity=user.user_id,
        additional_claims={"tid": user.tenant_id, "role": user.role, "usr": user.username},
    )


def _upgrade_hash_if_needed(user: User, password: str) -> None:
    if user.password_hash and needs_rehash(user.password_hash):
        try:
            services().users.set_password_hash(user, hash_password(password))
        except StoreUnavailable:
            # The login itself succeeded; the upgrade is retried at the next login.
            log.warning("password hash upgrade deferred for user %s", user.user_id)
