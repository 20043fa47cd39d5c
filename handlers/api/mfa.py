"""Two-factor authentication of the caller's own account: enrol, confirm, disable (``/me/mfa/totp``).

Only a user's own access token may do this (never an API key). The secret is returned once, at
enrolment; the recovery codes once, at confirmation. Disabling re-authenticates with the password
and a code, and counts as a login attempt in the login limits (a wrong one is a failed login).
"""

from __future__ import annotations

from flask import Blueprint, Response

from handlers.api.mfa_schemas import RecoveryCodes, TotpConfirmRequest, TotpDisableRequest, TotpEnrolment
from handlers.api.passwords import callers_username
from handlers.ratelimit import login_limits, slow_down_if_targeted
from handlers.web.audit import own_account_event
from handlers.web.context import repositories
from handlers.web.endpoint import BEARER, endpoint, json_response
from handlers.web.errors import InvalidRequest, ResourceConflict, Unauthorized
from handlers.web.principal import access_token_account, own_account_required
from handlers.web.schemas import ErrorEnvelope
from handlers.web.security_headers import NO_STORE
from models.audit_record import AuditEvent
from models.mfa_repository import InvalidCode
from models.passwords import verify_password
from models.users import User

bp = Blueprint("mfa", __name__, url_prefix="/api/v1/me/mfa")

REAUTHENTICATION_FAILED = "The password or the code is wrong"


def _event(action: str, user: User) -> AuditEvent:
    return own_account_event(action, user, auth="jwt", via="api")


@bp.post("/totp")
@own_account_required
@endpoint(responses={201: TotpEnrolment, 409: ErrorEnvelope}, tags=("users",), security=[BEARER])
def start_totp() -> Response:
    """Start enrolling a TOTP authenticator: the secret and its otpauth URI (not active until confirmed)."""
    enrolment = repositories().mfa.start_enrolment(access_token_account())
    return json_response(
        TotpEnrolment(secret=enrolment.secret, otpauth_uri=enrolment.otpauth_uri), status=201, headers=NO_STORE
    )


@bp.post("/totp/confirm")
@own_account_required
@endpoint(
    body=TotpConfirmRequest,
    responses={200: RecoveryCodes, 409: ErrorEnvelope},
    tags=("users",),
    security=[BEARER],
)
def confirm_totp(body: TotpConfirmRequest) -> Response:
    """Turn TOTP on with a current code of the new secret: ten single-use recovery codes, shown this once."""
    user = access_token_account()
    try:
        codes = repositories().mfa.confirm(user, body.code, audit=[_event("mfa.enabled", user)])
    except InvalidCode as exc:
        detail = {"field": "code", "message": str(exc), "type": "invalid_code"}
        raise InvalidRequest("The code is not valid", code="invalid_code", details=[detail]) from exc
    return json_response(RecoveryCodes(recovery_codes=codes), headers=NO_STORE)


@bp.post("/totp/disable")
@login_limits(callers_username)
@own_account_required
@endpoint(
    body=TotpDisableRequest,
    responses={204: None, 401: ErrorEnvelope, 409: ErrorEnvelope},
    tags=("users",),
    security=[BEARER],
)
def disable_totp(body: TotpDisableRequest) -> Response:
    """Turn TOTP off with the caller's password and a current code (or a recovery code)."""
    user = access_token_account()
    slow_down_if_targeted(user.username)
    if not verify_password(user.password_hash, body.password):
        raise Unauthorized(REAUTHENTICATION_FAILED, code="invalid_credentials")
    if not user.mfa_enabled:
        raise ResourceConflict("Two-factor authentication is not on")
    try:
        repositories().mfa.disable(user, body.code, audit=[_event("mfa.disabled", user)])
    except InvalidCode as exc:
        raise Unauthorized(REAUTHENTICATION_FAILED, code="invalid_credentials") from exc
    return Response(status=204, headers=NO_STORE)
