"""The login's own limits, shared by the API's and the dashboard's login so they count in one place."""

from __future__ import annotations

from typing import Any, Callable, TypeVar, cast

from handlers.ratelimit.limiter import limiter
from handlers.web.client_ip import client_ip
from handlers.web.context import repositories
from models.store.item_keys import username_key

View = TypeVar("View", bound=Callable[..., Any])

# Shared scopes: a password guessed on the dashboard counts in the same buckets as on the API.
LOGIN_IP_SCOPE = "login-ip"
LOGIN_FAILURES_SCOPE = "login-failures"
# Longer usernames are refused by validation; such a body counts against the IP instead.
MAX_COUNTED_USERNAME = 256


def login_limits(username: Callable[[], object]) -> Callable[[View], View]:
    """Limit a login view: attempts per client IP, and failed attempts (401) per username attempted."""

    def decorate(view: View) -> View:
        failures = limiter.shared_limit(
            lambda: repositories().settings.login_failure_rate_limit,
            scope=LOGIN_FAILURES_SCOPE,
            key_func=lambda: failure_bucket(username()),
            # Only failed attempts count: a user who logs in often is not locked out.
            deduct_when=lambda response: response.status_code == 401,
        )
        per_ip = limiter.shared_limit(
            lambda: repositories().settings.login_ip_rate_limit, scope=LOGIN_IP_SCOPE, key_func=client_ip
        )
        # flask-limiter types its decorators as returning a bare callable; the view is the same one, wrapped.
        return cast(View, per_ip(failures(view)))

    return decorate


def failure_bucket(username: object) -> str:
    """The counter of failed logins for a username attempted (its case-insensitive form), else the IP."""
    if isinstance(username, str) and 0 < len(username) <= MAX_COUNTED_USERNAME:
        return f"user:{username_key(username)}"
    return f"ip:{client_ip()}"
