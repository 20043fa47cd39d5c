"""Per-tenant rate limits: one application-wide flask-limiter limit, counted in DynamoDB.

Who a request counts against (its "subject"): an authenticated request, its principal's tenant, at
the tenant's own per-minute figure; anything without valid credentials, its client IP, at the
unauthenticated limit, so that token and key guessing are bounded. ``/auth/login`` adds its own limits
(per IP, and failures per username) in ``handlers/auth.py``.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_jwt_extended import decode_token
from flask_limiter import Limiter, RequestLimit
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from werkzeug.middleware.proxy_fix import ProxyFix

# Imported for its side effect: defining the class registers the dynamodb:// scheme with limits.
import models.rate_limit_storage  # noqa: F401
from handlers.errors import ApiError, Unauthorized
from handlers.principal import credential_reached_store, current_principal, remember_principal_error
from handlers.services import services

log = logging.getLogger(__name__)

# Liveness and the API document are never limited (load balancers and docs tools poll them).
EXEMPT_ENDPOINTS = frozenset({"health.health", "health.openapi_document"})
REFRESH_TOKEN_ENDPOINTS = frozenset({"auth.refresh", "auth.logout"})
SATURATION_KEY = "nativemessage.saturated"
LOCAL_LIMITER_KEY = "nativemessage.local_limiter"


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


class RateLimited(ApiError):
    """429 without touching the counter: this process already saw the window full."""

    status = 429
    code = "rate_limited"


def client_ip() -> str:
    """The caller's IP: from the API Gateway event on Lambda, else the WSGI peer (after ProxyFix)."""
    event = request.environ.get("lambda.event")
    if isinstance(event, dict):
        context = event.get("requestContext") or {}
        source = (context.get("http") or {}).get("sourceIp") or (context.get("identity") or {}).get("sourceIp")
        if source:
            return str(source)
    return request.remote_addr or "unknown"


def rate_limit_subject() -> Subject:
    """The subject of this request, resolved once (it authenticates the request if it can).

    It never raises: flask-limiter would take any exception for a storage failure.
    """
    subject = g.get("rate_limit_subject")
    if subject is None:
        try:
            subject = _resolve_subject()
        except Exception:
            log.exception("rate limit subject unresolved; counting the request against its IP")
            subject = Subject(f"ip:{client_ip()}", services().settings.unauthenticated_rate_limit)
        g.rate_limit_subject = subject
    return subject


def _resolve_subject() -> Subject:
    svc = services()
    anonymous = Subject(f"ip:{client_ip()}", svc.settings.unauthenticated_rate_limit)
    try:
        if request.endpoint in REFRESH_TOKEN_ENDPOINTS:
            tenant_id = _refresh_token_tenant()
        elif "Authorization" in request.headers or "X-API-Key" in request.headers:
            tenant_id = current_principal().tenant_id
        else:
            return anonymous
    except Exception as exc:  # any authentication failure: the view raises it again
        # flask-limiter treats an exception here as a storage failure, so keep it for the view.
        remember_principal_error(exc)
        if credential_reached_store():
            return anonymous  # a well-formed key was looked up: a real guess, counted everywhere
        return Subject(f"refused:{client_ip()}", svc.settings.unauthenticated_rate_limit, local=True)
    return Subject(f"tenant:{tenant_id}", f"{svc.tenant_limits.per_minute(tenant_id)}/minute")


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


limiter = Limiter(
    key_func=lambda: rate_limit_subject().key,
    application_limits=[lambda: rate_limit_subject().limit],
    # Local subjects were counted in memory by _check_local_limits; route limits (login) still apply.
    application_limits_exempt_when=lambda: rate_limit_subject().local,
    # Our after_request writes the headers: flask-limiter would add Retry-After to every response.
    headers_enabled=False,
    # If DynamoDB fails, count in process memory (and log) rather than refuse every request; and a
    # storage error flask-limiter meets after that switch (in-flight requests) is logged, not a 500.
    in_memory_fallback_enabled=True,
    swallow_errors=True,
    on_breach=lambda limit: _remember_saturation(limit),
)


@limiter.request_filter
def _exempt() -> bool:
    return request.endpoint in EXEMPT_ENDPOINTS


def init_rate_limits(app: Flask) -> None:
    """Bind the limiter to ``app`` with its storage, strategy and the hooks around it."""
    svc = app.extensions["nativemessage"]
    settings = svc.settings
    app.config.update(
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage,
        RATELIMIT_STORAGE_OPTIONS={"client_factory": lambda: svc.db.client, "region_name": settings.aws_region},
        RATELIMIT_STRATEGY=settings.ratelimit_strategy,
    )
    if settings.trusted_proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_count)  # type: ignore[method-assign]
    app.extensions[SATURATION_KEY] = Saturation()
    app.extensions[LOCAL_LIMITER_KEY] = FixedWindowRateLimiter(MemoryStorage())
    # Registered before the limiter's own hooks: these checks run first, the headers last.
    app.before_request(_check_local_limits)
    app.after_request(_add_rate_limit_headers)
    limiter.init_app(app)


class Saturation:
    """Per process: subjects whose window is known to be full, until its reset."""

    def __init__(self) -> None:
        self._until: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def remember(self, key: str, amount: int, reset_at: float) -> None:
        """Note that ``key``'s window of ``amount`` is full until ``reset_at``."""
        with self._lock:
            self._until[key] = (amount, reset_at)

    def full_until(self, key: str, amount: int, now: float) -> float | None:
        """The reset time if ``key``'s window of ``amount`` is known full at ``now``."""
        entry = self._until.get(key)
        if entry is None or entry[0] != amount or entry[1] <= now:
            return None
        return entry[1]


def _saturation() -> Saturation:
    return current_app.extensions[SATURATION_KEY]


def _remember_saturation(limit: RequestLimit) -> None:
    # Only the application-wide limit: route limits (login) have keys and scopes of their own.
    key = limit.request_args[0] if limit.request_args else ""
    if key == rate_limit_subject().key:
        _saturation().remember(key, limit.limit.amount, limit.window[0])


def _check_local_limits() -> None:
    """Decide in process memory what needs no DynamoDB write: known-full windows, refused credentials."""
    if request.endpoint is None or request.endpoint in EXEMPT_ENDPOINTS:
        return
    subject = rate_limit_subject()
    item = _parse_limit(subject.limit)
    if subject.local:
        local: FixedWindowRateLimiter = current_app.extensions[LOCAL_LIMITER_KEY]
        allowed = local.hit(item, subject.key)
        reset_at, remaining = local.get_window_stats(item, subject.key)
        g.local_rate_limit = (item.amount, remaining, reset_at)
        if not allowed:
            raise _rate_limited(subject, item.amount, reset_at)
        return
    # A tenant flooding past its limit must not become a flood of DynamoDB writes to one item.
    reset_at = _saturation().full_until(subject.key, item.amount, time.time())
    if reset_at is not None:
        raise _rate_limited(subject, item.amount, reset_at)


@functools.lru_cache(maxsize=1024)
def _parse_limit(limit: str) -> RateLimitItem:
    # The same few strings ("200/minute", ...) on every request: parse each once per process.
    return parse(limit)


def _rate_limited(subject: Subject, amount: int, reset_at: float) -> RateLimited:
    limit = subject.limit.replace("/", " per ")
    return RateLimited(
        f"Rate limit exceeded ({limit}); retry after the number of seconds in Retry-After",
        headers=_limit_headers(amount, 0, reset_at, retry=True),
    )


def _add_rate_limit_headers(response: Response) -> Response:
    if "X-RateLimit-Limit" in response.headers:
        return response  # a 429 decided in memory carries its own
    local = g.get("local_rate_limit")
    if local is not None:
        amount, remaining, reset_at = local
    else:
        current = limiter.current_limit
        if current is None:
            return response
        try:
            reset_at, remaining = current.window
        except Exception:
            log.warning("rate limit headers skipped: the counter could not be read")
            return response
        amount = current.limit.amount
    for name, value in _limit_headers(amount, remaining, reset_at, retry=response.status_code == 429).items():
        response.headers[name] = value
    return response


def _limit_headers(amount: int, remaining: int, reset_at: float, *, retry: bool) -> dict[str, Any]:
    reset = math.ceil(reset_at)
    headers = {
        "X-RateLimit-Limit": str(amount),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": str(reset),
    }
    if retry:
        headers["Retry-After"] = str(max(1, reset - math.floor(time.time())))
    return headers
