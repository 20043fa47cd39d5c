"""Request and response models of login, refresh and logout."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

from handlers.web.tokens import access_token_for, refresh_token_for
from models.accounts.inputs import Credentials
from models.user_record import User


class LoginRequest(Credentials):
    """Credentials for ``POST /auth/login``; ``otp`` (a TOTP or recovery code) for users with two-factor on."""

    otp: str | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("otp", mode="before")
    @classmethod
    def _empty_otp_is_none(cls, value: object) -> object:
        # A login form that always sends the field sends "" for users without two-factor: not a code.
        return None if value == "" else value


class TokenPair(BaseModel):
    """Tokens issued at login."""

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(examples=[900])

    @classmethod
    def of(cls, user: User, expires_in: int) -> TokenPair:
        """A fresh pair for ``user`` (stamped with their current session generation)."""
        return cls(access_token=access_token_for(user), refresh_token=refresh_token_for(user), expires_in=expires_in)


class AccessToken(BaseModel):
    """A fresh access token issued from a refresh token."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a scheme name, not a secret
    expires_in: int = Field(examples=[900])
