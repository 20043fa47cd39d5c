"""The models every route shares: the strict request base and the error envelope."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    """A request body: unknown fields are refused, and types are strict (no "yes" for true, no true for 1)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)


# What handlers/web/cursors.py's URLSafeSerializer emits; empty is the first page, like no cursor.
CURSOR = r"^[A-Za-z0-9_.-]*$"
# The kinds of the users' and keys' cursors (handlers/web/cursors.py; messages' are "m"): a cursor of
# one list is refused by another. The API and the dashboard share them, so one cursor works in both.
USERS_CURSOR = "u"
KEYS_CURSOR = "k"
# Page sizes of every paged listing (messages, users, API keys).
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class PageQuery(BaseModel):
    """Paging through a listing (other query parameters are ignored)."""

    limit: int = Field(default=DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)
    # A cursor is a URL-safe token (base64url segments joined by dots): said so in the document, a
    # schema-valid cursor is at most 1,024 bytes in the URL, not the ~12 KB of 1,024 4-byte characters
    # that no server's request line takes.
    cursor: str | None = Field(
        default=None, max_length=1024, pattern=CURSOR, description="next_cursor of the previous page"
    )


class ErrorBody(BaseModel):
    """The machine code and human message of an error."""

    code: str = Field(examples=["invalid_request"])
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorEnvelope(BaseModel):
    """Every error response: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorBody
