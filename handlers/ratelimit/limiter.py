"""The one flask-limiter instance: an application-wide per-subject limit, counted in DynamoDB."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter, RequestLimit
from werkzeug.middleware.proxy_fix import ProxyFix

# Imported for its side effect: defining the class registers the dynamodb:// scheme with limits.
import models.store.limits_storage  # noqa: F401
from handlers.ratelimit.headers import add_rate_limit_headers
from handlers.ratelimit.local import check_local_limits, remember_saturation
from handlers.ratelimit.saturation import init_saturation
from handlers.ratelimit.subject import EXEMPT_ENDPOINTS, rate_limit_subject
from models.repositories import Repositories

limiter = Limiter(
    key_func=lambda: rate_limit_subject().key,
    application_limits=[lambda: rate_limit_subject().limit],
    # Local subjects were counted in memory by check_local_limits; route limits (login) still apply.
    application_limits_exempt_when=lambda: rate_limit_subject().local,
    # Our after_request writes the headers: flask-limiter would add Retry-After to every response.
    headers_enabled=False,
    # If DynamoDB fails, count in process memory (and log) rather than refuse every request; and a
    # storage error flask-limiter meets after that switch (in-flight requests) is logged, not a 500.
    in_memory_fallback_enabled=True,
    swallow_errors=True,
    on_breach=remember_saturation,
)


@limiter.request_filter
def _exempt() -> bool:
    return request.endpoint in EXEMPT_ENDPOINTS


def init_rate_limits(app: Flask, repos: Repositories) -> None:
    """Bind the limiter to ``app`` with its storage, strategy and the hooks around it."""
    settings = repos.settings
    app.config.update(
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage,
        RATELIMIT_STORAGE_OPTIONS={"client_factory": lambda: repos.db.client, "region_name": settings.aws_region},
        RATELIMIT_STRATEGY=settings.ratelimit_strategy,
    )
    if settings.trusted_proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_count)  # type: ignore[method-assign]  # Flask documents wrapping wsgi_app as the way to add middleware
    init_saturation(app)
    # Registered before the limiter's own hooks: these checks run first, the headers last.
    app.before_request(check_local_limits)
    app.after_request(_add_headers)
    limiter.init_app(app)


def _add_headers(response: Response) -> Response:
    return add_rate_limit_headers(response, _described_limit(response))


def _described_limit(response: Response) -> RequestLimit | None:
    # A 429 describes the limit it breached (its Retry-After may be up to that limit's window).
    # Otherwise the tightest per-window limit: of the limits with the shortest window, the one with
    # the least left. flask-limiter would name the last one evaluated, which on /auth/login is the
    # 15-minute failure bucket, so a successful login said "10" with a reset 900 s ahead.
    if response.status_code == 429:
        return limiter.current_limit
    evaluated = limiter.current_limits
    if not evaluated:
        return limiter.current_limit
    shortest = min(limit.limit.get_expiry() for limit in evaluated)
    try:
        return min(
            (limit for limit in evaluated if limit.limit.get_expiry() == shortest), key=lambda limit: limit.remaining
        )
    except Exception:
        return evaluated[0]
