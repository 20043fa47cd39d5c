"""Request and response models of login, refresh and logout."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from models.accounts.inputs import Credentials


class LoginRequest(Credentials):
    """Credentials for ``POST /auth/login``; ``otp`` (a TOTP or recovery code) for users with two-factor on."""

    otp: str | None = Field(default=None, min_length=1, max_length=64)


class TokenPair(BaseModel):
    """Tokens issued at login."""

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(examples=[900])


class AccessToken(BaseModel):
    """A fresh access token issued from a refresh token."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(examples=[900])
