"""Who a request is made by, after authentication."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from models.roles import USERS_MANAGE, permissions_for
from models.users import User

AuthMethod = Literal["jwt", "api_key", "session"]


@dataclass(frozen=True)
class Principal:
    """A tenant, a user, their permissions, and how they authenticated (``key_id`` for an API key)."""

    tenant_id: str
    user_id: str
    username: str
    role: str
    permissions: tuple[str, ...]
    auth: AuthMethod
    key_id: str | None = None

    @classmethod
    def of_user(cls, user: User, auth: AuthMethod) -> Principal:
        """The principal of a user as stored now: their current role and its permissions."""
        return cls(
            tenant_id=user.tenant_id,
            user_id=user.user_id,
            username=user.username,
            role=user.role,
            permissions=permissions_for(user.role),
            auth=auth,
        )

    def can(self, permission: str) -> bool:
        """True when this principal holds the permission."""
        return permission in self.permissions

    @property
    def manages_users(self) -> bool:
        """True for a tenant admin (who also sees and manages every key of the tenant)."""
        return self.can(USERS_MANAGE)

    def with_role(self, role: str) -> Principal:
        """The same principal with another role and that role's permissions."""
        return replace(self, role=role, permissions=permissions_for(role))

    def as_user(self) -> User:
        """The principal's user identity (id, tenant, username, role); repositories re-read its state."""
        return User(self.user_id, self.tenant_id, self.username, self.role, False, "", "")
