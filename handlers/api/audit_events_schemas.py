"""Request and response models of the audit log endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field, JsonValue, field_validator, model_validator

from handlers.web.schemas import PageQuery
from models.audit_record import ACTIONS, AuditEvent
from models.store.item_keys import USER_ID_PATTERN


def _a_timestamp_text(value: object) -> object:
    # Pydantic reads a number (even "0.5" in a query string) as Unix time; the document says
    # ISO 8601 date-time, so only that is accepted.
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
    raise ValueError("give an ISO 8601 date-time with a timezone, such as 2026-12-01T09:30:00Z")


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_a_timestamp_text)]


class AuditEventQuery(PageQuery):
    """Filters and paging of the tenant's audit events, newest first (other query parameters are ignored)."""

    action: str | None = Field(default=None, json_schema_extra={"enum": list[JsonValue](sorted(ACTIONS))})
    actor_id: str | None = Field(default=None, pattern=USER_ID_PATTERN.pattern, description="a user id")
    since: IsoDateTime | None = Field(default=None, description="ISO 8601 with a timezone; inclusive")
    until: IsoDateTime | None = Field(default=None, description="ISO 8601 with a timezone; inclusive")
    # Bigger pages than the other listings: an audit is read in bulk.
    limit: int = Field(default=50, ge=1, le=200)

    @field_validator("action")
    @classmethod
    def _known_action(cls, value: str | None) -> str | None:
        if value is not None and value not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(sorted(ACTIONS))}")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> AuditEventQuery:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since must not be after until")
        return self


class AuditActorOut(BaseModel):
    """Who acted."""

    user_id: str | None
    username: str | None
    auth: str | None = Field(description="jwt, api_key, session, password, refresh_token or cli")
    key_id: str | None


class AuditTargetOut(BaseModel):
    """What the event is about."""

    type: str
    id: str | None


class AuditEventOut(BaseModel):
    """One security event; it never holds a password, token, key, digest or hash."""

    id: str
    time: str
    action: str
    actor: AuditActorOut
    target: AuditTargetOut | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    outcome: Literal["success", "failure"]
    details: dict[str, Any]

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        """The public shape of an event."""
        actor = event.actor
        return cls(
            id=event.event_id,
            time=event.time,
            action=event.action,
            actor=AuditActorOut(user_id=actor.user_id, username=actor.username, auth=actor.auth, key_id=actor.key_id),
            target=AuditTargetOut(type=event.target_type, id=event.target_id) if event.target_type else None,
            ip=event.origin.ip,
            user_agent=event.origin.user_agent,
            request_id=event.origin.request_id,
            outcome="failure" if event.outcome == "failure" else "success",
            details=event.details,
        )


class AuditEventPage(BaseModel):
    """One page of events, newest first; ``next_cursor`` is null on the last page."""

    items: list[AuditEventOut]
    next_cursor: str | None
