"""What a tenant admin may change on a user of their tenant."""

from __future__ import annotations

from models.accounts.principal import Principal
from models.store.errors import Conflict
from models.users import User, UserRepository

SELF_CHANGE_REFUSED = "You cannot change your own account; ask another admin"


class SelfChangeRefused(Conflict):
    """An admin tried to change their own role or status."""


def change_user(
    users: UserRepository, actor: Principal, user_id: str, *, role: str | None, disabled: bool | None
) -> User:
    """Apply ``actor``'s change to a user of their tenant; NotFound outside it, SelfChangeRefused for oneself.

    The change is written only while ``actor`` is still an active admin (NotAllowed otherwise), in the
    same transaction: a tenant never loses its last active admin, even to two admins acting at once.
    """
    user = users.get_in_tenant(actor.tenant_id, user_id)
    if user.user_id == actor.user_id:
        # Changing your own role or status is how an admin locks a tenant out (or back in after
        # being disabled with a token still valid): another admin must do it.
        raise SelfChangeRefused(SELF_CHANGE_REFUSED)
    return users.update(user, role=role, disabled=disabled, acting_admin=actor.as_user())
