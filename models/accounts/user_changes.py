"""What a tenant admin may change on a user of their tenant."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models.accounts.principal import Principal
from models.audit_record import AuditEvent
from models.store.errors import Conflict
from models.users import User, UserRepository

SELF_CHANGE_REFUSED = "You cannot change your own account; ask another admin"


class SelfChangeRefused(Conflict):
    """An admin tried to change their own role or status."""


def change_user(
    users: UserRepository,
    actor: Principal,
    user_id: str,
    *,
    role: str | None,
    disabled: bool | None,
    audit: Callable[[str, dict[str, Any]], AuditEvent] | None = None,
) -> User:
    """Apply ``actor``'s change to a user of their tenant; NotFound outside it, SelfChangeRefused for oneself.

    The change is written only while ``actor`` is still an active admin (NotAllowed otherwise), in the
    same transaction: a tenant never loses its last active admin, even to two admins acting at once.
    ``audit(action, details)`` makes the event of each thing that changes, written in that transaction.
    """
    user = users.get_in_tenant(actor.tenant_id, user_id)
    if user.user_id == actor.user_id:
        # Changing your own role or status is how an admin locks a tenant out (or back in after
        # being disabled with a token still valid): another admin must do it.
        raise SelfChangeRefused(SELF_CHANGE_REFUSED)
    events: list[AuditEvent] = []
    if audit is not None:
        if role is not None and role != user.role:
            events.append(audit("user.role_changed", {"from": user.role, "to": role}))
        if disabled is not None and disabled != user.disabled:
            events.append(audit("user.disabled" if disabled else "user.enabled", {}))
    return users.update(user, role=role, disabled=disabled, acting_admin=actor.as_user(), audit=events)
