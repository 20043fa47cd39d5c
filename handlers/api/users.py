"""The caller (``/me``) and tenant admins' management of their tenant's users."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from handlers.api.users_schemas import Me, UserCreate, UserList, UserListQuery, UserOut, UserUpdate
from handlers.web.audit import audit_event, events_about
from handlers.web.context import repositories
from handlers.web.cursors import decode_position, encode_position
from handlers.web.endpoint import API_KEY, BEARER, endpoint, json_response
from handlers.web.errors import InvalidRequest
from handlers.web.principal import authenticated, current_principal, require_permission
from handlers.web.schemas import USERS_CURSOR, ErrorEnvelope
from models.accounts.user_changes import change_user
from models.passwords import hash_password
from models.roles import USERS_MANAGE
from models.store.item_keys import is_user_id

bp = Blueprint("users", __name__, url_prefix="/api/v1")


@bp.get("/me")
@authenticated
@endpoint(responses={200: Me}, tags=("users",), security=[BEARER, API_KEY])
def me() -> Response:
    """The authenticated principal: tenant, user, role, permissions and how it authenticated."""
    principal = current_principal()
    return json_response(
        Me(
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            username=principal.username,
            role=principal.role,
            permissions=list(principal.permissions),
            auth="api_key" if principal.auth == "api_key" else "jwt",
            key_id=principal.key_id,
        )
    )


@bp.post("/users")
@require_permission(USERS_MANAGE)
@endpoint(body=UserCreate, responses={201: UserOut, 409: ErrorEnvelope}, tags=("users",), security=[BEARER])
def create_user(body: UserCreate) -> Response:
    """Create a user in the caller's tenant (the tenant is never taken from the body)."""
    tenant_id = current_principal().tenant_id
    created = audit_event("user.created", target_type="user", details={"role": body.role, "username": body.username})
    user = repositories().users.create(
        tenant_id, body.username, hash_password(body.password), body.role, audit=[created]
    )
    location = url_for("users.get_user", user_id=user.user_id)
    return json_response(UserOut.of(user), status=201, headers={"Location": location})


@bp.get("/users")
@require_permission(USERS_MANAGE)
@endpoint(query=UserListQuery, responses={200: UserList}, tags=("users",), security=[BEARER])
def list_users(query: UserListQuery) -> Response:
    """The users of the caller's tenant, oldest first, ``limit`` at a time."""
    tenant_id = current_principal().tenant_id
    after = decode_position(tenant_id, USERS_CURSOR, query.cursor, is_user_id) if query.cursor else None
    page = repositories().users.list_page(tenant_id, limit=query.limit, after=after)
    next_cursor = encode_position(tenant_id, USERS_CURSOR, page.resume_after) if page.resume_after else None
    return json_response(UserList(items=[UserOut.of(user) for user in page.items], next_cursor=next_cursor))


@bp.get("/users/<user_id>")
@require_permission(USERS_MANAGE)
@endpoint(responses={200: UserOut, 404: ErrorEnvelope}, tags=("users",), security=[BEARER])
def get_user(user_id: str) -> Response:
    """One user of the caller's tenant; other tenants' users are 404."""
    return json_response(UserOut.of(repositories().users.get_in_tenant(current_principal().tenant_id, user_id)))


@bp.patch("/users/<user_id>")
@require_permission(USERS_MANAGE)
@endpoint(
    body=UserUpdate,
    responses={200: UserOut, 404: ErrorEnvelope, 409: ErrorEnvelope},
    tags=("users",),
    security=[BEARER],
)
def update_user(user_id: str, body: UserUpdate) -> Response:
    """Change a user's role or disabled flag."""
    if body.role is None and body.disabled is None:
        raise InvalidRequest("Nothing to change: send role and/or disabled")
    user = change_user(
        repositories().users,
        current_principal(),
        user_id,
        role=body.role,
        disabled=body.disabled,
        audit=events_about("user", user_id),
    )
    return json_response(UserOut.of(user))
