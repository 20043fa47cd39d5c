"""Request and response models of ``/me`` and the users endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from handlers.web.schemas import PageQuery
from models.accounts.inputs import NewUser, UserChange
from models.users import User


class Me(BaseModel):
    """The authenticated principal."""

    tenant_id: str
    user_id: str
    username: str
    role: str
    permissions: list[str]
    auth: Literal["jwt", "api_key"]
    key_id: str | None = None


class UserListQuery(PageQuery):
    """Paging through the tenant's users, oldest first."""


class UserCreate(NewUser):
    """A new user of the caller's tenant."""


class UserUpdate(UserChange):
    """Fields an admin may change on a user."""


class UserOut(BaseModel):
    """A user as the API shows it (never the password hash)."""

    id: str
    tenant_id: str
    username: str
    role: str
    disabled: bool
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        """The public shape of a user."""
        return cls(
            id=user.user_id,
            tenant_id=user.tenant_id,
            username=user.username,
            role=user.role,
            disabled=user.disabled,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


class UserList(BaseModel):
    """One page of a tenant's users; ``next_cursor`` is null on the last page."""

    items: list[UserOut]
    next_cursor: str | None
