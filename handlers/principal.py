"""The one authentication path: resolve the request's principal once and cache it on ``g``."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Callable, Literal

from flask import g
from flask_jwt_extended import get_jwt, verify_jwt_in_request

from handlers.errors import Forbidden, Unauthorized
from models.roles import permissions_for


@dataclass(frozen=True)
class Principal:
    """Who a request is made by, after authentication."""

    tenant_id: str
    user_id: str
    username: str
    role: str
    permissions: tuple[str, ...]
    auth: Literal["jwt", "api_key"]
    key_id: str | None = None

    def can(self, permission: str) -> bool:
        """True when this principal holds the permission."""
        return permission in self.permissions


def current_principal() -> Principal:
    """The authenticated principal of this request; Unauthorized when there is none."""
    principal = g.get("principal")
    if principal is None:
        principal = _principal_from_access_token()
        g.principal = principal
    return principal


def _principal_from_access_token() -> Principal:
    # Raises flask-jwt-extended's errors, which the JWT callbacks answer with the envelope.
    verify_jwt_in_request()
    claims = get_jwt()
    tenant_id, role, username = claims.get("tid"), claims.get("role"), claims.get("usr")
    user_id = claims.get("sub")
    if not all(isinstance(value, str) and value for value in (tenant_id, role, username, user_id)):
        raise Unauthorized("The access token lacks required claims")
    return Principal(
        tenant_id=tenant_id,
        user_id=user_id,
        username=username,
        role=role,
        permissions=permissions_for(role),
        auth="jwt",
    )


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    """Require any authenticated principal."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_principal()
        return view(*args, **kwargs)

    return wrapper


def require_permission(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a principal holding ``permission`` (401 without credentials, 403 without the right)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_principal().can(permission):
                raise Forbidden(f"This request needs the {permission} permission")
            return view(*args, **kwargs)

        return wrapper

    return decorate
