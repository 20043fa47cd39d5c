"""Audit events as the web sees them: the acting principal, the client's IP and User-Agent, the request id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import request
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from handlers.web.client_ip import client_ip
from handlers.web.context import repositories, request_state
from models.api_keys import ApiKey
from models.audit_record import Actor, AuditEvent, Origin
from models.store.errors import StoreUnavailable
from models.users import User

log = logging.getLogger(__name__)

# Failed logins written per account and minute in this process: a flood of wrong passwords is
# refused and counted by the login limits either way, but cannot run up the audit table.
_failed_login_records = FixedWindowRateLimiter(MemoryStorage())


def audit_event(
    action: str,
    *,
    tenant_id: str | None = None,
    actor: Actor | None = None,
    target_type: str | None = None,
    target_id: str | None = None,
    outcome: str = "success",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """An event of this request: by its principal (or ``actor``), in its tenant (or ``tenant_id``)."""
    principal = request_state().principal
    if actor is None:
        actor = (
            Actor(principal.user_id, principal.username, principal.auth, principal.key_id)
            if principal is not None
            else Actor()
        )
    tenant = tenant_id or (principal.tenant_id if principal is not None else None)
    if tenant is None:
        raise ValueError("an audit event needs a tenant")
    return repositories().audit.event(
        tenant,
        action,
        actor,
        request_origin(),
        target_type=target_type,
        target_id=target_id,
        outcome=outcome,
        details=details,
    )


def events_about(target_type: str, target_id: str) -> Callable[[str, dict[str, Any]], AuditEvent]:
    """A maker of this request's events about one target: ``make(action, details)``."""

    def make(action: str, details: dict[str, Any]) -> AuditEvent:
        return audit_event(action, target_type=target_type, target_id=target_id, details=details)

    return make


def key_created(name: str) -> AuditEvent:
    """``api_key.created``: the new key's id is filled in by the write that creates it."""
    return audit_event("api_key.created", target_type="api_key", details={"name": name})


def key_rotated(old: ApiKey, grace_seconds: int) -> AuditEvent:
    """``api_key.rotated`` of ``old``: the replacement's id is added by the write that creates it."""
    return audit_event(
        "api_key.rotated", target_type="api_key", target_id=old.key_id, details={"grace_seconds": grace_seconds}
    )


def key_revoked(key: ApiKey) -> AuditEvent:
    """``api_key.revoked`` of ``key``."""
    return audit_event("api_key.revoked", target_type="api_key", target_id=key.key_id, details={"name": key.name})


def own_account_event(action: str, user: User, *, auth: str, via: str | None = None) -> AuditEvent:
    """An event ``user`` caused on their own account, acting by ``auth``; ``via`` (api, dashboard) in its details."""
    return audit_event(
        action,
        tenant_id=user.tenant_id,
        actor=user_actor(user, auth),
        target_type="user",
        target_id=user.user_id,
        details={"via": via} if via else None,
    )


def password_changed(user: User, *, via: str) -> AuditEvent:
    """``user.password_changed`` by ``user`` themselves (``via``: api, dashboard)."""
    return own_account_event("user.password_changed", user, auth="jwt" if via == "api" else "session", via=via)


def user_actor(user: User, auth: str) -> Actor:
    """``user`` acting by ``auth`` (password, session, jwt)."""
    return Actor(user.user_id, user.username, auth)


def request_origin() -> Origin:
    """The client's IP, its User-Agent and this request's id."""
    return Origin(client_ip(), request.user_agent.string or None, request_state().request_id or None)


def recovery_code_used(user: User, *, via: str) -> AuditEvent:
    """``mfa.recovery_code_used`` for ``user``'s login (``via``: api, dashboard), written with the code's removal."""
    return own_account_event("mfa.recovery_code_used", user, auth="password", via=via)


def login_succeeded(user: User, *, via: str) -> AuditEvent:
    """``auth.login_succeeded`` for ``user`` (``via``: api, dashboard); a two-factor login writes it with its code."""
    return own_account_event("auth.login_succeeded", user, auth="password", via=via)


def record_login(user: User, attempted: str, *, succeeded: bool, via: str) -> None:
    """Write ``auth.login_succeeded`` or ``auth.login_failed`` for ``user``'s account (``via``: api, dashboard).

    No sign-in goes unrecorded: when the success cannot be written, StoreUnavailable refuses the
    login (503). A failure's record is best effort, at most ``AUDIT_FAILED_LOGINS_PER_MINUTE`` per
    account and minute in this process; it names the username as typed, never the password.
    """
    repos = repositories()
    if succeeded:
        repos.audit.record(login_succeeded(user, via=via))
        return
    per_minute = repos.settings.audit_failed_logins_per_minute
    if per_minute <= 0 or not _failed_login_records.hit(RateLimitItemPerMinute(per_minute), user.user_id):
        return
    event = audit_event(
        "auth.login_failed",
        tenant_id=user.tenant_id,
        actor=user_actor(user, "password"),
        target_type="user",
        target_id=user.user_id,
        outcome="failure",
        details={"via": via, "username_attempted": attempted},
    )
    try:
        repos.audit.record(event)
    except StoreUnavailable:
        log.warning("failed login of user %s not recorded: the audit table did not answer", user.user_id)
