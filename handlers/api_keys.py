"""Minting, listing, revoking and rotating API keys (with a user's access token only)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, url_for

from handlers.api_key_schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyOut, ApiKeyRotate
from handlers.auth import NO_STORE
from handlers.endpoint import BEARER, endpoint, json_response
from handlers.errors import InvalidRequest, ResourceNotFound, Unauthorized
from handlers.principal import Principal, current_principal, require_permission
from handlers.schemas import ErrorEnvelope
from handlers.services import services
from models.api_key_record import ApiKey
from models.errors import NotFound
from models.key_format import key_prefix
from models.roles import API_KEYS_MANAGE, USERS_MANAGE
from models.users import User

bp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys")


@bp.post("")
@require_permission(API_KEYS_MANAGE)
@endpoint(body=ApiKeyCreate, responses={201: ApiKeyCreated, 409: ErrorEnvelope}, tags=("api-keys",), security=[BEARER])
def create_key(body: ApiKeyCreate) -> Response:
    """Mint a key for the caller; the key is in this response and nowhere else, ever."""
    principal = current_principal()
    svc = services()
    now = svc.clock.now()
    if body.expires_at is not None and body.expires_at <= now:
        raise InvalidRequest(
            "expires_at must be in the future", details=[{"field": "expires_at", "message": "in the past"}]
        )
    if body.permissions is not None:
        missing = sorted(set(body.permissions) - set(principal.permissions))
        if missing:
            raise InvalidRequest(f"A key can only narrow your own permissions; you lack {', '.join(missing)}")
    try:
        key, secret = svc.api_keys.create(
            _principal_user(principal),
            name=body.name,
            prefix=key_prefix(svc.settings.is_production),
            now=now,
            permissions=tuple(body.permissions) if body.permissions is not None else None,
            expires_at=body.expires_at,
        )
    except NotFound as exc:
        raise Unauthorized("The token's user no longer exists") from exc
    return _created(key, secret)


@bp.get("")
@require_permission(API_KEYS_MANAGE)
@endpoint(responses={200: ApiKeyList}, tags=("api-keys",), security=[BEARER])
def list_keys() -> Response:
    """The caller's keys; an admin sees every key of the tenant."""
    principal = current_principal()
    created_by = None if principal.can(USERS_MANAGE) else principal.user_id
    keys = services().api_keys.list_for_tenant(principal.tenant_id, created_by=created_by)
    now = services().clock.now()
    return json_response(ApiKeyList(items=[key_out(key, now) for key in keys]))


@bp.get("/<key_id>")
@require_permission(API_KEYS_MANAGE)
@endpoint(responses={200: ApiKeyOut, 404: ErrorEnvelope}, tags=("api-keys",), security=[BEARER])
def get_key(key_id: str) -> Response:
    """One key's metadata (the caller's own; an admin: any of the tenant's)."""
    return json_response(key_out(_visible_key(key_id), services().clock.now()))


@bp.delete("/<key_id>")
@require_permission(API_KEYS_MANAGE)
@endpoint(responses={204: None, 404: ErrorEnvelope}, tags=("api-keys",), security=[BEARER])
def revoke_key(key_id: str) -> Response:
    """Revoke a key, effective at once everywhere; revoking it again changes nothing."""
    svc = services()
    svc.api_keys.revoke(_visible_key(key_id), svc.clock.now())
    return Response(status=204)


@bp.post("/<key_id>/rotate")
@require_permission(API_KEYS_MANAGE)
@endpoint(
    body=ApiKeyRotate,
    body_optional=True,
    responses={201: ApiKeyCreated, 404: ErrorEnvelope, 409: ErrorEnvelope},
    tags=("api-keys",),
    security=[BEARER],
)
def rotate_key(key_id: str, body: ApiKeyRotate) -> Response:
    """A new key (shown once) replacing this one, which keeps working for ``grace_seconds``."""
    svc = services()
    old = _visible_key(key_id)
    key, secret = svc.api_keys.rotate(
        old, grace_seconds=body.grace_seconds, prefix=key_prefix(svc.settings.is_production), now=svc.clock.now()
    )
    return _created(key, secret)


def key_out(key: ApiKey, now: datetime) -> ApiKeyOut:
    """The public shape of a key's metadata."""
    return ApiKeyOut(
        id=key.key_id,
        name=key.name,
        prefix=key.prefix_hint,
        status=key.status(now),
        created_at=key.created_at,
        created_by=key.created_by,
        last_used_at=key.last_used_at,
        expires_at=key.expires_at,
        revoked_at=key.revoked_at,
        permissions=list(key.permissions) if key.permissions is not None else None,
        rotated_from=key.rotated_from,
    )


def _created(key: ApiKey, secret: str) -> Response:
    body = ApiKeyCreated(**key_out(key, services().clock.now()).model_dump(), key=secret)
    headers = {**NO_STORE, "Location": url_for("api_keys.get_key", key_id=key.key_id)}
    return json_response(body, status=201, headers=headers)


def _visible_key(key_id: str) -> ApiKey:
    """A key the caller may manage: any of the tenant's for an admin, only their own otherwise."""
    principal = current_principal()
    key = services().api_keys.get_in_tenant(principal.tenant_id, key_id)
    if not principal.can(USERS_MANAGE) and key.created_by != principal.user_id:
        raise ResourceNotFound("API key not found")
    return key


def _principal_user(principal: Principal) -> User:
    # Only the identity is needed: the repository re-reads the user's current state.
    return User(principal.user_id, principal.tenant_id, principal.username, principal.role, False, "", "")
