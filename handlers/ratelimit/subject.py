"""Who a request counts against (its "subject"), and at which limit.

An authenticated request counts against its principal's tenant, at the tenant's own per-minute figure;
anything without valid credentials against its client IP, at the unauthenticated limit, so that
token and key guessing are bounded.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from flask import request
from flask_jwt_extended import decode_token
from limits import RateLimitItem, parse

from handlers.web.client_ip import client_ip
from handlers.web.context import repositories, request_state
from handlers.web.errors import Unauthorized
from handlers.web.principal import current_principal

log = logging.getLogger(__name__)

# Liveness and the API document are never limited (load balancers and docs tools poll them).
EXEMPT_ENDPOINTS = frozenset({"health.health", "health.openapi_document"})
REFRESH_TOKEN_ENDPOINTS = frozenset({"auth.refresh", "auth.logout"})


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
    anonymous = Subject(f"ip:{client_ip()}", repos.settings.unauthenticated_rate_limit)
    try:
        if request.endpoint in REFRESH_TOKEN_ENDPOINTS:
            tenant_id = _refresh_token_tenant()
        elif "Authorization" in request.headers or "X-API-Key" in request.headers:
            tenant_id = current_principal().tenant_id
        else:
            return anonymous
    except Exception as exc:  # any authentication failure: the view raises it again
        # flask-limiter treats an exception here as a storage failure, so keep it for the view.
        state = request_state()
        state.auth_failure = exc
        if state.credential_looked_up:
            return anonymous  # a well-formed key was looked up: a real guess, counted everywhere
        return Subject(f"refused:{client_ip()}", repos.settings.unauthenticated_rate_limit, local=True)
    return Subject(f"tenant:{tenant_id}", f"{repos.tenant_limits.per_minute(tenant_id)}/minute")


def _refresh_token_tenant() -> str:
    # Refresh and logout carry a refresh token: count them against its tenant like any request.
    # decode_token checks signature, expiry, type claims, issuer and audience, but not the revocation
    # list; the view checks that (once), so the subject costs no extra read.
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token:
        raise Unauthorized("Authentication required: send Authorization: Bearer <refresh token>")
    claims = decode_token(token)
    tenant_id = claims.get("tid")
    if claims.get("type") != "refresh" or not isinstance(tenant_id, str) or not tenant_id:
        raise Unauthorized("A refresh token is required")
    return tenant_id
