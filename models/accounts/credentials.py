"""Checking a username and password, and finding the live account behind a credential."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from models.passwords import hash_password, needs_rehash, verify_password
from models.store.errors import StoreUnavailable
from models.users import User, UserRepository

log = logging.getLogger(__name__)

BAD_CREDENTIALS = "Invalid username or password"


@dataclass(frozen=True)
class LoginCheck:
    """A login's outcome: the user it signs in (None when refused) and the account the username named."""

    user: User | None
    account: User | None


def check_login(users: UserRepository, username: str, password: str) -> LoginCheck:
    """Check a username and password (the API's and the dashboard's login); one read, one verification."""
    account = users.find_by_username(username)
    # Verified even for an unknown user (against a dummy hash) so both answers take as long.
    password_ok = verify_password(account.password_hash if account else None, password)
    if account is None or not password_ok or account.disabled:
        return LoginCheck(None, account)
    _upgrade_hash_if_needed(users, account, password)
    return LoginCheck(account, account)


def active_account(
    users: UserRepository, username: object, user_id: object, tenant_id: object, generation: object = None
) -> User | None:
    """The enabled user a token or session names, re-read now; None if disabled, gone or replaced.

    A username may since belong to someone else (deleted, then taken again): the id and the tenant
    must match too. With ``generation`` (a refresh token's or a session's), it must also be the
    user's current session generation: a disable (and, later, a password change or "sign out
    everywhere") moves it on, ending every credential issued before. One strongly consistent read.
    """
    if not isinstance(username, str) or not username:
        return None
    user = users.find_by_username(username)
    if user is None or user.user_id != user_id or user.tenant_id != tenant_id or user.disabled:
        return None
    if generation is not None and generation != user.session_generation:
        return None
    return user


def _upgrade_hash_if_needed(users: UserRepository, user: User, password: str) -> None:
    if user.password_hash and needs_rehash(user.password_hash):
        try:
            users.set_password_hash(user, hash_password(password))
        except StoreUnavailable:
            # The login itself succeeded; the upgrade is retried at the next login.
            log.warning("password hash upgrade deferred for user %s", user.user_id)
