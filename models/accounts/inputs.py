"""The validated shapes of account input, shared by the API's bodies, the dashboard's forms and the CLI."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from models.accounts.password_policy import MAX_LENGTH, password_problem
from models.text_rules import name_problem

USERNAME_PATTERN = r"^[A-Za-z0-9._@+-]+$"
KEY_NAME_MAX_LENGTH = 100

RoleName = Literal["admin", "member", "viewer"]


class AccountInput(BaseModel):
    """Input from outside: unknown fields are refused rather than silently ignored."""

    # Strict: a JSON string is not a bool, a bool is not a number ({"disabled": "yes"} is refused).
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)


class Credentials(AccountInput):
    """A username and password to check (login)."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


def _follows_the_password_policy(value: str) -> str:
    problem = password_problem(value)
    if problem is not None:
        raise ValueError(f"The password {problem}")
    return value


# A password about to be set; the rules are models/accounts/password_policy.py's. The length bound
# here only stops absurd input before the policy (which counts after normalisation) runs.
NewPassword = Annotated[
    str,
    Field(max_length=4 * MAX_LENGTH, description="12 to 128 characters; not a common password"),
    AfterValidator(_follows_the_password_policy),
]


class NewUser(AccountInput):
    """A new user: a username, a password the policy accepts, and a role."""

    username: str = Field(min_length=3, max_length=64, pattern=USERNAME_PATTERN)
    password: NewPassword
    role: RoleName


class PasswordChange(AccountInput):
    """One's own new password: the current one (checked as a login's is) and a new one the policy accepts."""

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: NewPassword


class PasswordReset(AccountInput):
    """An admin's reset of another user's password: a new one the policy accepts."""

    new_password: NewPassword


class UserChange(AccountInput):
    """What an admin may change on a user."""

    role: RoleName | None = None
    disabled: bool | None = None


def _a_name(value: str) -> str:
    problem = name_problem(value)
    if problem is not None:
        raise ValueError(f"The name {problem}")
    return value


class NewApiKeyName(AccountInput):
    """A new key's name: one line of printable text."""

    name: Annotated[str, Field(min_length=1, max_length=KEY_NAME_MAX_LENGTH), AfterValidator(_a_name)]
