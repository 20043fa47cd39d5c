"""Binding flask-limiter to an app: its storage (DynamoDB), strategy (leased fixed window), hooks and headers."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from flask import Flask, Response
from flask_limiter import RequestLimit
from werkzeug.middleware.proxy_fix import ProxyFix

# Imported for its side effect: defining the class registers the dynamodb:// scheme with limits.
import models.store.limits_storage  # noqa: F401
from handlers.ratelimit.extension import limiter
from handlers.ratelimit.headers import add_rate_limit_headers
from handlers.ratelimit.local import check_local_limits
from handlers.ratelimit.saturation import init_saturation
from handlers.web.context import request_state
from models.repositories import Repositories
from models.store.limits_leasing import STRATEGY_NAME as LEASED


def init_rate_limits(app: Flask, repos: Repositories) -> None:
    """Bind the limiter to ``app`` with its storage, strategy and the hooks around it."""
    settings = repos.settings
    app.config.update(
        RATELIMIT_STORAGE_URI=settings.rate_limit_storage,
        RATELIMIT_STORAGE_OPTIONS={"client_factory": lambda: repos.db.client, "region_name": settings.aws_region},
        # The fixed window admits from leased permits (models/store/limits_leasing.py): about a tenth of
        # a DynamoDB write per admitted request instead of one. The sliding window counts exactly.
        RATELIMIT_STRATEGY=LEASED if settings.ratelimit_strategy == "fixed-window" else settings.ratelimit_strategy,
    )
    if settings.trusted_proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxy_count)  # type: ignore[method-assign]  # Flask documents wrapping wsgi_app as the way to add middleware
    init_saturation(app)
    # Registered before the limiter's own hooks: these checks run first, the headers last.
    app.before_request(check_local_limits)
    app.after_request(_add_headers)
    limiter.init_app(app)
    _skip_the_limiter_hooks_when_counted(app)


def _skip_the_limiter_hooks_when_counted(app: Flask) -> None:
    # flask-limiter's hooks resolve, filter and evaluate the app's limits on every request, then
    # look for deductions and reset their context: a fifth of a tenant request's time after
    # check_local_limits has already counted it with flask-limiter's own strategy. Flask's hook
    # lists are public: flask-limiter's entries are wrapped to run only for requests not counted
    # there. flask-limiter stays in charge of every other request, and of the route limits.
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        chain: list[Any] = hooks.setdefault(None, [])  # Flask keys the app-wide hooks by None
        for position, hook in enumerate(chain):
            if _belongs_to_limiter(hook):
                chain[position] = _unless_counted_here(hook)


def _belongs_to_limiter(hook: Any) -> bool:
    bound_to = getattr(hook, "__self__", None)
    return bound_to is limiter or (isinstance(hook, partial) and limiter in hook.args)


def _unless_counted_here(hook: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(hook)
    def unless_counted_here(*args: Any) -> Any:
        if request_state().counted_here:
            return args[0] if args else None  # an after_request hook hands its response on
        return hook(*args)

    return unless_counted_here


def _add_headers(response: Response) -> Response:
    return add_rate_limit_headers(response, lambda: _described_limit(response))


def _described_limit(response: Response) -> RequestLimit | None:
    # A 429 describes the limit it breached (its Retry-After may be up to that limit's window).
    # Otherwise the tightest per-window limit: of the limits with the shortest window, the one with
    # the least left. flask-limiter would name the last one evaluated, which on /auth/login is the
    # 15-minute failure bucket, so a successful login said "10" with a reset 900 s ahead.
    if response.status_code == 429:
        return limiter.current_limit
    evaluated = limiter.current_limits
    if len(evaluated) < 2:
        return evaluated[0] if evaluated else limiter.current_limit
    shortest = min(limit.limit.get_expiry() for limit in evaluated)
    try:
        return min(
            (limit for limit in evaluated if limit.limit.get_expiry() == shortest), key=lambda limit: limit.remaining
        )
    except Exception:
        return evaluated[0]
