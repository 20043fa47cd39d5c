"""Login, refresh and logout: the JWT flow of the public documentation page."""

from __future__ import annotations

from flask import Blueprint, Response, request

from handlers.api.auth_schemas import AccessToken, LoginRequest, TokenPair
from handlers.ratelimit import login_limits, slow_down_if_targeted
from handlers.web.audit import (
    audit_event,
    own_account_event,
    record_login,
)
from handlers.web.context import repositories, request_state
from handlers.web.endpoint import BEARER, endpoint, json_response
from handlers.web.errors import MFA_REQUIRED, Unauthorized
from handlers.web.principal import caller_account, presented_token_type, refresh_token_account, refresh_token_claims
from handlers.web.schemas import ErrorEnvelope
from handlers.web.second_factor import refuse_tokens_until_enrolled, sign_in_with_code
from handlers.web.security_headers import NO_STORE
from handlers.web.tokens import access_token_for
from models.accounts.credentials import BAD_CREDENTIALS, check_login
from models.audit_record import Actor

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth")


def _attempted_username() -> object:
    try:
        payload = request.get_json(silent=True)
    except Exception:  # too large or too deep: validation answers it; a key function must not raise
        payload = None
    return payload.get("username") if isinstance(payload, dict) else None


@bp.post("/login")
@login_limits(_attempted_username)
@endpoint(body=LoginRequest, responses={200: TokenPair, 401: ErrorEnvelope, 403: ErrorEnvelope}, tags=("auth",))
def login(body: LoginRequest) -> Response:
    """Exchange a username and password for an access and a refresh token."""
    slow_down_if_targeted(body.username)
    checked = check_login(repositories().users, body.username, body.password)
    user = checked.user
    if user is None:
        if checked.account is not None:
            record_login(checked.account, body.username, succeeded=False, via="api")
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    request_state().log_tenant = user.tenant_id
    if user.mfa_enabled:
        # Only now, the password verified: to anyone without it the answer is the same as for a wrong one.
        if body.otp is None:
            raise Unauthorized("A one-time code is required: send it as otp", code=MFA_REQUIRED)
        if sign_in_with_code(user, body.username, body.otp, via="api") is None:
            raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials")
    else:
        # Also only after the password: a wrong one is a 401 whatever the tenant requires.
        refuse_tokens_until_enrolled(user, read_fresh=True)
        record_login(user, body.username, succeeded=True, via="api")
    tokens = TokenPair.of(user, repositories().settings.access_token_ttl_seconds)
    return json_response(tokens, headers=NO_STORE)


@bp.post("/refresh")
@endpoint(responses={200: AccessToken}, tags=("auth",), security=[BEARER])
def refresh() -> Response:
    """Issue a new access token for a valid, unrevoked refresh token of an active user.

    403 ``mfa_enrollment_required`` once the user's tenant requires two-factor authentication and the
    user has not turned it on.
    """
    user = refresh_token_account()
    request_state().log_tenant = user.tenant_id
    refuse_tokens_until_enrolled(user)
    expires_in = repositories().settings.access_token_ttl_seconds
    return json_response(AccessToken(access_token=access_token_for(user), expires_in=expires_in), headers=NO_STORE)


@bp.post("/logout")
@endpoint(responses={204: None}, tags=("auth",), security=[BEARER])
def logout() -> Response:
    """Revoke the refresh token presented; later refreshes with it get 401."""
    claims = refresh_token_claims()
    tenant_id = str(claims.get("tid"))
    request_state().log_tenant = tenant_id
    event = audit_event(
        "auth.logout",
        tenant_id=tenant_id,
        actor=Actor(str(claims.get("sub")), str(claims.get("usr")), "refresh_token"),
        target_type="user",
        target_id=str(claims.get("sub")),
    )
    repositories().revoked_tokens.revoke(str(claims["jti"]), int(claims["exp"]), audit=[event])
    return Response(status=204, headers=NO_STORE)


@bp.post("/logout-all")
@endpoint(responses={204: None, 403: ErrorEnvelope}, tags=("auth",), security=[BEARER])
def logout_all() -> Response:
    """Sign out everywhere: every refresh token and dashboard session of the caller issued before now ends."""
    user = caller_account()
    request_state().log_tenant = user.tenant_id
    auth = "refresh_token" if presented_token_type() == "refresh" else "jwt"
    event = own_account_event("auth.logout_all", user, auth=auth)
    repositories().users.end_sessions(user, audit=[event])
    return Response(status=204, headers=NO_STORE)
