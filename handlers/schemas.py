"""Request and response models shared across blueprints; the OpenAPI document is built from them."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

USERNAME_PATTERN = r"^[A-Za-z0-9._@+-]+$"


class StrictModel(BaseModel):
    """A request body: unknown fields are refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class ErrorBody(BaseModel):
    """The machine code and human message of an error."""

    code: str = Field(examples=["invalid_request"])
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorEnvelope(BaseModel):
    """Every error response: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorBody


class LoginRequest(StrictModel):
    """Credentials for ``POST /auth/login``."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


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


class Me(BaseModel):
    """The authenticated principal."""

    tenant_id: str
    user_id: str
    username: str
    role: str
    permissions: list[str]
    auth: Literal["jwt", "api_key"]
    key_id: str | None = None


class HealthStatus(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"


class UserCreate(StrictModel):
    """A new user of the caller's tenant."""

    username: str = Field(min_length=3, max_length=64, pattern=USERNAME_PATTERN)
    password: str = Field(min_length=12, max_length=1024)
    role: Literal["admin", "member", "viewer"]


class UserUpdate(StrictModel):
    """Fields an admin may change on a user."""

    role: Literal["admin", "member", "viewer"] | None = None
    disabled: bool | None = None


class UserOut(BaseModel):
    """A user as the API shows it (never the password hash)."""

    id: str
    tenant_id: str
    username: str
    role: str
    disabled: bool
    created_at: str
    updated_at: str


class UserList(BaseModel):
    """A tenant's users."""

    items: list[UserOut]
