"""Login, refresh and logout: the JWT flow of the public documentation page."""

from __future__ import annotations

from flask import Blueprint, Response, request
from flask_jwt_extended import create_access_token, create_refresh_token

from handlers.api.auth_schemas import AccessToken, LoginRequest, TokenPair
from handlers.ratelimit import login_limits, slow_down_if_targeted
from handlers.web.context import repositories, request_state
from handlers.web.endpoint import BEARER, endpoint, json_response
from handlers.web.errors import Unauthorized
from handlers.web.principal import caller_account, refresh_token_account, refresh_token_claims
from handlers.web.schemas import ErrorEnvelope
from handlers.web.security_headers import NO_STORE
from models.accounts.credentials import BAD_CREDENTIALS, check_credentials
from models.users import User

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def _attempted_username() -> object:
    try:
        payload = request.get_json(silent=True)
    except Exception:  # too large or too deep: validation answers it; a key function must not raise
        payload = None
    return payload.get("username") if isinstance(payload, dict) else None


@bp.post("/login")
@login_limits(_attempted_username)
@endpoint(body=LoginRequest, responses={200: TokenPair, 401: ErrorEnvelope}, tags=("auth",))
def login(body: LoginRequest) -> Response:
    """Exchange a username and password for an access and a refresh token."""
    slow_down_if_targeted(body.username)
    user = check_credentials(repositories().users, body.username, body.password)
    if user is None:
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    request_state().log_tenant = user.tenant_id
    tokens = TokenPair(
        access_token=_access_token(user),
        refresh_token=create_refresh_token(
            identity=user.user_id,
            additional_claims={"tid": user.tenant_id, "usr": user.username, "gen": user.session_generation},
        ),
        expires_in=repositories().settings.access_token_ttl_seconds,
    )
    return json_response(tokens, headers=NO_STORE)


@bp.post("/refresh")
@endpoint(responses={200: AccessToken}, tags=("auth",), security=[BEARER])
def refresh() -> Response:
    """Issue a new access token for a valid, unrevoked refresh token of an active user."""
    user = refresh_token_account()
    request_state().log_tenant = user.tenant_id
    expires_in = repositories().settings.access_token_ttl_seconds
    return json_response(AccessToken(access_token=_access_token(user), expires_in=expires_in), headers=NO_STORE)


@bp.post("/logout")
@endpoint(responses={204: None}, tags=("auth",), security=[BEARER])
def logout() -> Response:
    """Revoke the refresh token presented; later refreshes with it get 401."""
    claims = refresh_token_claims()
    request_state().log_tenant = claims.get("tid")
    repositories().revoked_tokens.revoke(str(claims["jti"]), int(claims["exp"]))
    return Response(status=204, headers=NO_STORE)


@bp.post("/logout-all")
@endpoint(responses={204: None, 403: ErrorEnvelope}, tags=("auth",), security=[BEARER])
def logout_all() -> Response:
    """Sign out everywhere: every refresh token and dashboard session of the caller issued before now ends."""
    user = caller_account()
    repositories().users.end_sessions(user)
    request_state().log_tenant = user.tenant_id
    return Response(status=204, headers=NO_STORE)


def _access_token(user: User) -> str:
    token: str = create_access_token(
        identity=user.user_id,
        additional_claims={"tid": user.tenant_id, "role": user.role, "usr": user.username},
    )
    return token
