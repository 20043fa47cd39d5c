"""Changing a password: one's own (proving the current one, as a login does) and an admin's reset.

The API (``POST /me/password``, ``POST /users/<id>/password``) and the dashboard (Settings → Account)
share these rules. The new password has passed the policy already (``NewPassword`` in ``inputs``).
Either way the new hash and the end of the user's sessions are one write
(``UserRepository.change_password``): every refresh token and dashboard session issued before stops
working; access tokens live out their 15 minutes.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.accounts.principal import Principal
from models.audit_record import AuditEvent
from models.passwords import hash_password, verify_password
from models.store.errors import NotAllowed
from models.users import User, UserRepository

WRONG_CURRENT = "The current password is not correct"
SAME_AS_CURRENT = "The new password must differ from the current one"
OWN_RESET_REFUSED = (
    "an admin changes their own password with the current one (POST /me/password, or the dashboard's"
    " Settings → Account), not with a reset"
)


class WrongCurrentPassword(Exception):
    """The current password given is not the account's (answered as a failed login)."""


class SamePassword(ValueError):
    """The new password is the current one."""


class OwnPasswordReset(NotAllowed):
    """An admin tried to reset their own password, which would skip the current-password check."""


def change_own_password(
    users: UserRepository, user: User, current_password: str, new_password: str, audit: Sequence[AuditEvent] = ()
) -> User:
    """Check ``current_password``, then set ``new_password`` and end every earlier session; the updated user.

    ``user`` is the account as just read (with its hash); WrongCurrentPassword or SamePassword
    change nothing. ``audit`` (``user.password_changed``) is written in the same transaction.
    """
    if not verify_password(user.password_hash, current_password):
        raise WrongCurrentPassword(WRONG_CURRENT)
    if new_password == current_password:
        raise SamePassword(SAME_AS_CURRENT)
    return users.change_password(user, hash_password(new_password), audit=audit)


def reset_password(
    users: UserRepository, actor: Principal, user_id: str, new_password: str, audit: Sequence[AuditEvent] = ()
) -> User:
    """An admin sets another user's password in their tenant and ends that user's sessions; the updated user.

    NotFound outside the tenant; OwnPasswordReset for oneself. The user's current password is never
    compared with the new one: that would let an admin test guesses of it. ``audit``
    (``user.password_reset``) is written in the same transaction.
    """
    if user_id == actor.user_id:
        raise OwnPasswordReset(OWN_RESET_REFUSED)
    user = users.get_in_tenant(actor.tenant_id, user_id)
    return users.change_password(user, hash_password(new_password), audit=audit)
