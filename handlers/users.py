"""The caller (``/me``) and tenant admins' management of their tenant's users."""

from __future__ import annotations

from flask import Blueprint, Response, url_for

from handlers.endpoint import API_KEY, BEARER, endpoint, json_response
from handlers.errors import InvalidRequest, ResourceConflict
from handlers.principal import Principal, authenticated, current_principal, require_permission
from handlers.schemas import ErrorEnvelope, Me, UserCreate, UserList, UserOut, UserUpdate
from handlers.services import services
from models.passwords import hash_password
from models.roles import USERS_MANAGE
from models.users import User

bp = Blueprint("users", __name__, url_prefix="/api/v1")

SELF_CHANGE_REFUSED = "You cannot change your own account; ask another admin"


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
            auth=principal.auth,
            key_id=principal.key_id,
        )
    )


@bp.post("/users")
@require_permission(USERS_MANAGE)
@endpoint(body=UserCreate, responses={201: UserOut, 409: ErrorEnvelope}, tags=("users",), security=[BEARER])
def create_user(body: UserCreate) -> Response:
    """Create a user in the caller's tenant (the tenant is never taken from the body)."""
    tenant_id = current_principal().tenant_id
    user = services().users.create(tenant_id, body.username, hash_password(body.password), body.role)
    location = url_for("users.get_user", user_id=user.user_id)
    return json_response(user_out(user), status=201, headers={"Location": location})


@bp.get("/users")
@require_permission(USERS_MANAGE)
@endpoint(responses={200: UserList}, tags=("users",), security=[BEARER])
def list_users() -> Response:
    """Every user of the caller's tenant."""
    users = services().users.list_for_tenant(current_principal().tenant_id)
    return json_response(UserList(items=[user_out(user) for user in users]))


@bp.get("/users/<user_id>")
@require_permission(USERS_MANAGE)
@endpoint(responses={200: UserOut, 404: ErrorEnvelope}, tags=("users",), security=[BEARER])
def get_user(user_id: str) -> Response:
    """One user of the caller's tenant; other tenants' users are 404."""
    return json_response(user_out(services().users.get_in_tenant(current_principal().tenant_id, user_id)))


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
    return json_response(user_out(change_user(current_principal(), user_id, body)))


def change_user(principal: Principal, user_id: str, change: UserUpdate) -> User:
    """Apply an admin's change to a user of their tenant (the API's and the dashboard's rule)."""
    users = services().users
    user = users.get_in_tenant(principal.tenant_id, user_id)
    if user.user_id == principal.user_id:
        # Changing your own role or status is how an admin locks a tenant out (or back in after
        # being disabled with a token still valid): another admin must do it.
        raise ResourceConflict(SELF_CHANGE_REFUSED)
    return users.update(user, role=change.role, disabled=change.disabled)


def user_out(user: User) -> UserOut:
    """The public shape of a user."""
    return UserOut(
        id=user.user_id,
        tenant_id=user.tenant_id,
        username=user.username,
        role=user.role,
        disabled=user.disabled,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )
