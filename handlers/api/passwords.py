"""Passwords: a user changes their own (``/me/password``); a tenant admin resets another user's.

Both end the user's refresh tokens and dashboard sessions in the write that sets the new hash
(``models/accounts/password_change.py``); access tokens already issued live out their 15 minutes.
"""

from __future__ import annotations

from flask import Blueprint, Response

from handlers.api.auth_schemas import TokenPair
from handlers.api.passwords_schemas import PasswordChangeRequest, PasswordResetRequest
from handlers.ratelimit import login_limits, slow_down_if_targeted
from handlers.web.audit import audit_event, password_changed
from handlers.web.context import repositories
from handlers.web.endpoint import BEARER, endpoint, json_response
from handlers.web.errors import InvalidRequest, Unauthorized
from handlers.web.principal import access_token_account, current_principal, own_account_required, require_permission
from handlers.web.schemas import ErrorEnvelope
from handlers.web.second_factor import refuse_tokens_until_enrolled
from handlers.web.security_headers import NO_STORE
from models.accounts import password_change
from models.accounts.password_change import SamePassword, WrongCurrentPassword
from models.roles import USERS_MANAGE

bp = Blueprint("passwords", __name__, url_prefix="/api/v1")


def callers_username() -> object:
    """The login limits' key of a re-authentication (here, and disabling two-factor): the caller's username.

    A wrong current password counts as a failed login of this username from this IP. Without a
    user's access token there is no username (the IP's own bucket is used).
    """
    try:
        principal = current_principal()
    except Exception:  # no usable credential: the view answers it; a key function must not raise
        return None
    return principal.username if principal.auth == "jwt" else None


@bp.post("/me/password")
@login_limits(callers_username)
@own_account_required
@endpoint(
    body=PasswordChangeRequest,
    responses={200: TokenPair, 401: ErrorEnvelope, 403: ErrorEnvelope, 409: ErrorEnvelope},
    tags=("users",),
    security=[BEARER],
)
def change_own_password(body: PasswordChangeRequest) -> Response:
    """Change the caller's password: every other refresh token and dashboard session ends; fresh tokens back."""
    user = access_token_account()
    # Fresh tokens are what a login gives: not to a user their organisation wants enrolled first.
    refuse_tokens_until_enrolled(user)
    slow_down_if_targeted(user.username)
    try:
        updated = password_change.change_own_password(
            repositories().users,
            user,
            body.current_password,
            body.new_password,
            audit=[password_changed(user, via="api")],
        )
    except WrongCurrentPassword as exc:
        raise Unauthorized(str(exc), code="invalid_credentials") from exc
    except SamePassword as exc:
        detail = {"field": "new_password", "message": str(exc), "type": "same_as_current"}
        raise InvalidRequest("The request body is invalid", details=[detail]) from exc
    # The tokens carry the new generation: the caller carries on, everyone holding an older one is out.
    tokens = TokenPair.of(updated, repositories().settings.access_token_ttl_seconds)
    return json_response(tokens, headers=NO_STORE)


@bp.post("/users/<user_id>/password")
@require_permission(USERS_MANAGE)
@endpoint(
    body=PasswordResetRequest,
    responses={204: None, 404: ErrorEnvelope, 409: ErrorEnvelope},
    tags=("users",),
    security=[BEARER],
)
def reset_user_password(user_id: str, body: PasswordResetRequest) -> Response:
    """Set another user's password in the caller's tenant; that user's refresh tokens and sessions end."""
    reset = audit_event("user.password_reset", target_type="user", target_id=user_id)
    password_change.reset_password(repositories().users, current_principal(), user_id, body.new_password, audit=[reset])
    return Response(status=204)
