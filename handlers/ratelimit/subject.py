"""Who a request counts against (its "subject"), and at which limit.

An authenticated request counts against its principal's tenant, at the tenant's own per-minute figure;
anything without valid credentials against its client IP, at the unauthenticated limit, so that
token and key guessing are bounded.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from flask import current_app, request
from flask_jwt_extended import decode_token
from limits import RateLimitItem, parse

from handlers.ratelimit.saturation import known_full_until
from handlers.web.client_ip import client_ip
from handlers.web.context import repositories, request_state
from handlers.web.errors import Unauthorized
from handlers.web.principal import (
    current_principal,
    presented_token_type,
    refresh_token_account,
    refresh_token_claims,
)
from models.repositories import Repositories

log = logging.getLogger(__name__)

# Liveness and the API document are never limited (load balancers and docs tools poll them).
EXEMPT_ENDPOINTS = frozenset({"health.health", "health.openapi_document"})
REFRESH_TOKEN_ENDPOINTS = frozenset({"auth.refresh", "auth.logout"})
# Endpoints with limits of their own (handlers/ratelimit/login.py): flask-limiter always counts these.
# A password change checks the current password, so it counts in the login's limits too.
ROUTE_LIMITED_ENDPOINTS = frozenset(
    {"auth.login", "dashboard.login", "passwords.change_own_password", "dashboard.password.change_password"}
)
# Endpoints that take a user's access or refresh token (sign out everywhere).
EITHER_TOKEN_ENDPOINTS = frozenset({"auth.logout_all"})
# Where a dashboard cookie is sent but no session is looked up (static files cost no read).
SESSIONLESS_ENDPOINTS = frozenset({"dashboard.static"})
# app.extensions key of the dashboard's "tenant of this request's live session, or None".
SESSION_TENANT_KEY = "nativemessage.session_tenant"


@dataclass(frozen=True)
class Subject:
    """The counter a request is charged to and the limit that applies to it.

    ``local`` subjects are counted in process memory, not DynamoDB: requests whose credential was
    refused without a database read (a malformed key, a bad token) cannot succeed, so they must not
    cost a DynamoDB write either.
    """

    key: str
    limit: str
    local: bool = False

    @property
    def item(self) -> RateLimitItem:
        """The parsed limit."""
        return parse_limit(self.limit)


def is_exempt() -> bool:
    """True for requests no limit applies to (unrouted paths, liveness, the API document)."""
    return request.endpoint is None or request.endpoint in EXEMPT_ENDPOINTS


def rate_limit_subject() -> Subject:
    """The subject of this request, resolved once (it authenticates the request if it can).

    It never raises: flask-limiter would take any exception for a storage failure.
    """
    state = request_state()
    if state.rate_limit_subject is None:
        try:
            state.rate_limit_subject = _resolve_subject()
        except Exception:
            log.exception("rate limit subject unresolved; counting the request against its IP")
            state.rate_limit_subject = Subject(f"ip:{client_ip()}", repositories().settings.unauthenticated_rate_limit)
    return state.rate_limit_subject


@functools.lru_cache(maxsize=1024)
def parse_limit(limit: str) -> RateLimitItem:
    """A limit string parsed once per process (the same few strings, "200/minute", on every request)."""
    return parse(limit)


def _resolve_subject() -> Subject:
    repos = repositories()
    endpoint = request.endpoint
    try:
        if endpoint in REFRESH_TOKEN_ENDPOINTS or (
            endpoint in EITHER_TOKEN_ENDPOINTS and presented_token_type() == "refresh"
        ):
            return _refresh_token_subject()
        environ = request.environ
        if "HTTP_AUTHORIZATION" in environ or "HTTP_X_API_KEY" in environ:
            return _tenant_subject(current_principal().tenant_id)
        session_tenant = _dashboard_session_tenant()
        if session_tenant is not None:
            return _tenant_subject(session_tenant)
        return _anonymous(repos)
    except Exception as exc:  # any authentication failure: the view raises it again
        # flask-limiter treats an exception here as a storage failure, so keep it for the view.
        state = request_state()
        state.auth_failure = exc
        if state.credential_looked_up:
            return _anonymous(repos)  # a well-formed credential was looked up: a real guess, counted everywhere
        return Subject(f"refused:{client_ip()}", repos.settings.unauthenticated_rate_limit, local=True)


def _anonymous(repos: Repositories) -> Subject:
    return Subject(f"ip:{client_ip()}", repos.settings.unauthenticated_rate_limit)


def _tenant_subject(tenant_id: str) -> Subject:
    return Subject(f"tenant:{tenant_id}", f"{repositories().tenant_cache.per_minute(tenant_id)}/minute")


def _refresh_token_subject() -> Subject:
    # A refused credential never costs its tenant anything: the token is checked (signature, then
    # the revocation list and, for a refresh, the account) before its tenant is charged. The checks
    # are the ones the view needs anyway (kept on the request state), so they add no read. A tenant
    # whose window this process knows is full answers 429 from memory before any read.
    subject = _tenant_subject(_refresh_token_tenant())
    if known_full_until(subject.key, subject.item.amount) is not None:
        return subject
    if request.endpoint == "auth.logout":
        refresh_token_claims()  # logout needs no account: revoking a token of a disabled user is fine
    else:
        refresh_token_account()
    return subject


def _dashboard_session_tenant() -> str | None:
    # A dashboard page with a live session counts against its tenant like any authenticated
    # request, not against its network's anonymous budget. The dashboard registers the lookup
    # (the same one its pages make, kept on the request state: no extra read).
    lookup = current_app.extensions.get(SESSION_TENANT_KEY)
    if lookup is None or request.endpoint in SESSIONLESS_ENDPOINTS:
        return None
    tenant_id: str | None = lookup()
    return tenant_id


def _refresh_token_tenant() -> str:
    # decode_token checks signature, expiry, type claims, issuer and audience (no read).
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token:
        raise Unauthorized("Authentication required: send Authorization: Bearer <refresh token>")
    claims = decode_token(token)
    tenant_id = claims.get("tid")
    if claims.get("type") != "refresh" or not isinstance(tenant_id, str) or not tenant_id:
        raise Unauthorized("A refresh token is required")
    return tenant_id
