"""The user record and its DynamoDB item: what a user is, and how it is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class User:
    """A person with a login inside one tenant.

    ``api_keys`` maps the id of each live key the user created to ``{"digest", "expires_epoch"}``;
    ``keys_version`` changes with every write to it, so writers can detect each other.
    ``session_generation`` is stamped into every refresh token and dashboard session; moving it on
    (disable, a password change or reset, "sign out everywhere") ends every one issued before.
    The ``mfa_*`` fields are two-factor authentication's (models/mfa_repository.py): secrets stored
    encrypted, recovery codes as keyed digests, and the last time step a TOTP code was accepted for.
    """

    user_id: str
    tenant_id: str
    username: str
    role: str
    disabled: bool
    created_at: str
    updated_at: str
    password_hash: str | None = field(default=None, repr=False)
    api_keys: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    keys_version: int = 0
    session_generation: int = 0
    mfa_enabled: bool = False
    mfa_secret: str | None = field(default=None, repr=False)
    mfa_pending_secret: str | None = field(default=None, repr=False)
    mfa_last_step: int = 0
    mfa_recovery: frozenset[str] = field(default_factory=frozenset, repr=False)

    @property
    def codes_used_mark(self) -> str:
        """A mark that every accepted one-time code moves on (the last TOTP step up, the recovery codes down).

        Neither ever moves back, so a login step that noted it is spent once any code has been used.
        """
        return f"{self.mfa_last_step}.{len(self.mfa_recovery)}"


def user_item(user: User) -> dict[str, Any]:
    """The stored attributes of a user (keys not included)."""
    return {
        "type": "user",
        "user_id": user.user_id,
        "tenant_id": user.tenant_id,
        "username": user.username,
        "role": user.role,
        "disabled": user.disabled,
        "created_at": user.created_at,
        "updated_at": user.updated_at,
        "password_hash": user.password_hash,
        "api_keys": user.api_keys,
        "keys_version": user.keys_version,
        "session_generation": user.session_generation,
        "mfa_enabled": user.mfa_enabled,
        "mfa_secret": user.mfa_secret,
        "mfa_pending_secret": user.mfa_pending_secret,
        "mfa_last_step": user.mfa_last_step,
        # A string set; DynamoDB has no empty set, so none at all (None is not written).
        "mfa_recovery": set(user.mfa_recovery) or None,
    }


def user_from_item(values: dict[str, Any]) -> User:
    """A User from a stored (or index-projected) item."""
    return User(
        user_id=values["user_id"],
        tenant_id=values["tenant_id"],
        username=values["username"],
        role=values["role"],
        disabled=bool(values.get("disabled", False)),
        created_at=values["created_at"],
        updated_at=values.get("updated_at", values["created_at"]),
        password_hash=values.get("password_hash"),
        api_keys=values.get("api_keys") or {},
        keys_version=int(values.get("keys_version", 0)),
        session_generation=int(values.get("session_generation", 0)),
        mfa_enabled=bool(values.get("mfa_enabled", False)),
        mfa_secret=values.get("mfa_secret"),
        mfa_pending_secret=values.get("mfa_pending_secret"),
        mfa_last_step=int(values.get("mfa_last_step", 0)),
        mfa_recovery=frozenset(values.get("mfa_recovery") or ()),
    )
