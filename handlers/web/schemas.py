"""The models every route shares: the strict request base and the error envelope."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StrictModel(BaseModel):
    """A request body: unknown fields are refused, and types are strict (no "yes" for true, no true for 1)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=False)


class ErrorBody(BaseModel):
    """The machine code and human message of an error."""

    code: str = Field(examples=["invalid_request"])
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorEnvelope(BaseModel):
    """Every error response: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorBody
