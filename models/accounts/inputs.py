"""The validated shapes of account input, shared by the API's bodies, the dashboard's forms and the CLI."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

USERNAME_PATTERN = r"^[A-Za-z0-9._@+-]+$"
KEY_NAME_MAX_LENGTH = 100

RoleName = Literal["admin", "member", "viewer"]


class AccountInput(BaseModel):
    """Input from outside: unknown fields are refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Credentials(AccountInput):
    """A username and password to check (login)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class NewUser(AccountInput):
    """A new user: a username, a password of at least 12 characters, and a role."""

    username: str = Field(min_length=3, max_length=64, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=12, max_length=1024)
    role: RoleName


class UserChange(AccountInput):
    """What an admin may change on a user."""

    role: RoleName | None = None
    disabled: bool | None = None


class NewApiKeyName(AccountInput):
    """A new key's name."""

    name: str = Field(min_length=1, max_length=KEY_NAME_MAX_LENGTH)
