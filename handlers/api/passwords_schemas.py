"""Request models of the password endpoints (the answers are ``auth_schemas.TokenPair`` and 204)."""

from __future__ import annotations

from models.accounts.inputs import PasswordChange, PasswordReset


class PasswordChangeRequest(PasswordChange):
    """``POST /me/password``: the caller's current password and the new one."""


class PasswordResetRequest(PasswordReset):
    """``POST /users/<id>/password``: the user's new password, set by an admin of their tenant."""
