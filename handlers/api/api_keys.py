"""Minting, listing, revoking and rotating API keys (with a user's access token only)."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from handlers.api.api_keys_schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyList,
    ApiKeyListQuery,
    ApiKeyOut,
    ApiKeyRotate,
)
from handlers.web.audit import key_created, key_revoked, key_rotated
from handlers.web.context import repositories
from handlers.web.cursors import decode_position, encode_position
from handlers.web.endpoint import BEARER, endpoint, json_response
from handlers.web.errors import InvalidRequest, Unauthorized
from handlers.web.principal import current_principal, require_permission
from handlers.web.schemas import KEYS_CURSOR, ErrorEnvelope
from handlers.web.security_headers import NO_STORE
from models.accounts.key_access import rotatable_key, visible_key, visible_keys_page
from models.api_key_record import ApiKey
from models.key_format import key_prefix
from models.roles import API_KEYS_MANAGE
from models.store.errors import NotFound
from models.store.item_keys import is_api_key_id

bp = Blueprint("api_keys", __name__, url_prefix="/api/v1/api-keys")


@bp.post("")
@require_permission(API_KEYS_MANAGE)
@endpoint(body=ApiKeyCreate, responses={201: ApiKeyCreated, 409: ErrorEnvelope}, tags=("api-keys",), security=[BEARER])
def create_key(body: ApiKeyCreate) -> Response:
    """Mint a key for the caller; the key is in this response and nowhere else, ever."""
    principal = current_principal()
    repos = repositories()
    now = repos.now()
    if body.expires_at is not None and body.expires_at <= now:
        raise InvalidRequest(
            "expires_at must be in the future", details=[{"field": "expires_at", "message": "in the past"}]
        )
    if body.permissions is not None:
        missing = sorted(set(body.permissions) - set(principal.permissions))
        if missing:
            raise InvalidRequest(f"A key can only narrow your own permissions; you lack {', '.join(missing)}")
    try:
        key, secret = repos.api_keys.create(
            principal.as_user(),
            name=body.name,
            prefix=key_prefix(repos.settings.is_production),
            now=now,
            permissions=tuple(body.permissions) if body.permissions is not None else None,
            expires_at=body.expires_at,
            audit=[key_created(body.name)],
        )
    except NotFound as exc:
        raise Unauthorized("The token's user no longer exists") from exc
    return _created(key, secret)


@bp.get("")
@require_permission(API_KEYS_MANAGE)
@endpoint(query=ApiKeyListQuery, responses={200: ApiKeyList}, tags=("api-keys",), security=[BEARER])
def list_keys(query: ApiKeyListQuery) -> Response:
    """The caller's keys (an admin: every key of the tenant), oldest first, ``limit`` at a time."""
    tenant_id = current_principal().tenant_id
    repos = repositories()
    now = repos.now()
    after = decode_position(tenant_id, KEYS_CURSOR, query.cursor, is_api_key_id) if query.cursor else None
    page = visible_keys_page(
        repos.api_keys, current_principal(), now=now, limit=query.limit, after=after, status=query.status
    )
    next_cursor = encode_position(tenant_id, KEYS_CURSOR, page.resume_after) if page.resume_after else None
    return json_response(ApiKeyList(items=[ApiKeyOut.of(key, now) for key in page.items], next_cursor=next_cursor))


@bp.get("/<key_id>")
@require_permission(API_KEYS_MANAGE)
@endpoint(responses={200: ApiKeyOut, 404: ErrorEnvelope}, tags=("api-keys",), security=[BEARER])
def get_key(key_id: str) -> Response:
    """One key's metadata (the caller's own; an admin: any of the tenant's)."""
    repos = repositories()
    return json_response(ApiKeyOut.of(visible_key(repos.api_keys, current_principal(), key_id), repos.now()))


@bp.delete("/<key_id>")
@require_permission(API_KEYS_MANAGE)
@endpoint(responses={204: None, 404: ErrorEnvelope}, tags=("api-keys",), security=[BEARER])
def revoke_key(key_id: str) -> Response:
    """Revoke a key, effective at once everywhere; revoking it again changes nothing."""
    repos = repositories()
    key = visible_key(repos.api_keys, current_principal(), key_id)
    repos.api_keys.revoke(key, repos.now(), audit=[key_revoked(key)])
    return Response(status=204)


@bp.post("/<key_id>/rotate")
@require_permission(API_KEYS_MANAGE)
@endpoint(
    body=ApiKeyRotate,
    body_optional=True,
    responses={201: ApiKeyCreated, 403: ErrorEnvelope, 404: ErrorEnvelope, 409: ErrorEnvelope},
    tags=("api-keys",),
    security=[BEARER],
)
def rotate_key(key_id: str, body: ApiKeyRotate) -> Response:
    """A new key (shown once) replacing this one, which keeps working for ``grace_seconds``; the owner's only."""
    repos = repositories()
    old = rotatable_key(repos.api_keys, current_principal(), key_id)
    key, secret = repos.api_keys.rotate(
        old,
        grace_seconds=body.grace_seconds,
        prefix=key_prefix(repos.settings.is_production),
        now=repos.now(),
        audit=[key_rotated(old, body.grace_seconds)],
    )
    return _created(key, secret)


def _created(key: ApiKey, secret: str) -> Response:
    body = ApiKeyCreated(**ApiKeyOut.of(key, repositories().now()).model_dump(), key=secret)
    headers = {**NO_STORE, "Location": url_for("api_keys.get_key", key_id=key.key_id)}
    return json_response(body, status=201, headers=headers)
