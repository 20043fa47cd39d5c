"""The audit log's records: the contract's actions, who acted, from where, and the event itself."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ulid import ULID

ACTIONS = frozenset(
    {
        "auth.login_succeeded",
        "auth.login_failed",
        "auth.logout",
        "auth.logout_all",
        "user.created",
        "user.role_changed",
        "user.disabled",
        "user.enabled",
        "user.password_changed",
        "user.password_reset",
        "api_key.created",
        "api_key.rotated",
        "api_key.revoked",
        "mfa.enabled",
        "mfa.disabled",
        "mfa.recovery_code_used",
        "tenant.rate_limit_changed",
        "tenant.mfa_requirement_changed",
    }
)
EVENT_ID_PREFIX = "evt_"
# A browser's User-Agent can be long; what an auditor needs fits well within this.
USER_AGENT_MAX = 256


@dataclass(frozen=True)
class Actor:
    """Who acted: a user (by token, session or password), an API key, or the operator's CLI."""

    user_id: str | None = None
    username: str | None = None
    auth: str | None = None  # jwt, api_key, session, password, cli
    key_id: str | None = None


@dataclass(frozen=True)
class Origin:
    """Where the request came from."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    """One security event of a tenant. It never holds a password, token, key, digest or hash."""

    event_id: str
    tenant_id: str
    time: str
    action: str
    actor: Actor
    origin: Origin
    target_type: str | None = None
    target_id: str | None = None
    outcome: str = "success"
    details: dict[str, Any] = field(default_factory=dict)
    expires_at: int = 0  # epoch seconds: DynamoDB's TTL deletes the event then

    def about(self, created_id: str, detail: str = "created_id") -> AuditEvent:
        """The same event naming ``created_id``, made by the write itself: as its target when it has
        none, else in ``details[detail]`` (a rotation targets the old key and names the new one)."""
        if self.target_id is None:
            return replace(self, target_id=created_id)
        return replace(self, details={**self.details, detail: created_id})


@dataclass(frozen=True)
class AuditPage:
    """Events newest first; ``last_id`` is set when more may follow."""

    items: list[AuditEvent]
    last_id: str | None


def is_event_id(value: str) -> bool:
    """True when ``value`` has the shape of an audit event id."""
    if not value.startswith(EVENT_ID_PREFIX):
        return False
    try:
        ULID.from_str(value.removeprefix(EVENT_ID_PREFIX))
    except ValueError:
        return False
    return True
