"""Request and response models of the API key endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from handlers.web.schemas import PageQuery, StrictModel
from models.accounts.inputs import NewApiKeyName
from models.api_key_record import ApiKey, KeyStatus
from models.api_keys import MAX_GRACE_SECONDS
from models.roles import MESSAGES_READ, MESSAGES_SEND

KeyPermission = Literal["messages:read", "messages:send"]
KEY_PERMISSIONS = (MESSAGES_READ, MESSAGES_SEND)


class ApiKeyCreate(NewApiKeyName):
    """A new API key: a name, and optionally an expiry and a narrower set of permissions."""

    # Not strict: JSON has no datetime, so a string is parsed; anything but a string is refused first.
    expires_at: AwareDatetime | None = Field(
        default=None, strict=False, description="ISO 8601 with a time zone; in the future"
    )
    permissions: list[KeyPermission] | None = Field(
        default=None, min_length=1, description="Narrows the creator's permissions; omitted: all of them"
    )

    @field_validator("expires_at", mode="before")
    @classmethod
    def _an_iso_string(cls, value: object) -> object:
        # Lax parsing would read a number as a Unix time (and one above 2e10 as milliseconds).
        if value is not None and not isinstance(value, str):
            raise ValueError("expires_at must be an ISO 8601 string with a time zone")
        return value

    @field_validator("expires_at")
    @classmethod
    def _representable_in_utc(cls, value: datetime | None) -> datetime | None:
        # Dates near year 9999 overflow when moved to UTC; no key needs to live that long.
        if value is not None:
            try:
                value.astimezone(UTC)
            except OverflowError as exc:
                raise ValueError("expires_at is out of range") from exc
        return value


class ApiKeyRotate(StrictModel):
    """How long the old key keeps working after a rotation."""

    grace_seconds: int = Field(default=0, ge=0, le=MAX_GRACE_SECONDS)


class ApiKeyListQuery(PageQuery):
    """Paging through the caller's keys, oldest first, optionally only those of one status."""

    status: KeyStatus | None = Field(default=None, description="Only keys with this status now")


class ApiKeyOut(BaseModel):
    """An API key's metadata; never the key or its digest."""

    id: str
    name: str
    prefix: str = Field(description="Type prefix and last four characters, e.g. nmk_live_...a1B2")
    status: KeyStatus
    created_at: str
    created_by: str
    last_used_at: str | None
    expires_at: str | None
    revoked_at: str | None
    permissions: list[str] | None
    rotated_from: str | None

    @classmethod
    def of(cls, key: ApiKey, now: datetime) -> ApiKeyOut:
        """The public shape of a key's metadata, with its status at ``now``."""
        return cls(
            id=key.key_id,
            name=key.name,
            prefix=key.prefix_hint,
            status=key.status(now),
            created_at=key.created_at,
            created_by=key.created_by,
            last_used_at=key.last_used_at,
            expires_at=key.expires_at,
            revoked_at=key.revoked_at,
            permissions=list(key.permissions) if key.permissions is not None else None,
            rotated_from=key.rotated_from,
        )


class ApiKeyCreated(ApiKeyOut):
    """A newly minted key: ``key`` is shown in this response only, never again."""

    key: str


class ApiKeyList(BaseModel):
    """One page of the keys the caller may see; ``next_cursor`` is null on the last page."""

    items: list[ApiKeyOut]
    next_cursor: str | None
