"""The login's own limits, shared by the API's and the dashboard's login so they count in one place.

- Attempts per client IP (``LOGIN_IP_RATE_LIMIT``, 30 a minute): a 429 past it.
- Failed attempts per username *and* client IP (``LOGIN_FAILURE_RATE_LIMIT``, 10 per 15 minutes): a
  429 for that client only. Counting failures per username alone let anyone lock a known user out
  with ten wrong passwords from anywhere; a client that has not failed can always log in.
- Failed attempts per username from everywhere (``LOGIN_USERNAME_FAILURE_CEILING``, 100 per 15
  minutes): past it, every well-formed attempt for that username waits ``LOGIN_SLOWDOWN_SECONDS``
  before its password is checked (``slow_down_if_targeted``, called by the views), one at a time per
  process. It slows a guessing botnet down without locking the owner out.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from typing import Any, Callable, TypeVar, cast

from flask import Response
from werkzeug.wrappers import Response as BaseResponse

from handlers.ratelimit.extension import limiter
from handlers.ratelimit.headers import RateLimited
from handlers.ratelimit.subject import parse_limit
from handlers.web.client_ip import client_ip
from handlers.web.context import repositories
from handlers.web.errors import MFA_REQUIRED, ApiError
from models.store.item_keys import username_key

log = logging.getLogger(__name__)

# Usernames with an attempt waiting in this process (see slow_down_if_targeted).
_sleepers: set[str] = set()
_sleepers_lock = threading.Lock()

View = TypeVar("View", bound=Callable[..., Any])

# Shared scopes: a password guessed on the dashboard counts in the same buckets as on the API.
LOGIN_IP_SCOPE = "login-ip"
LOGIN_FAILURES_SCOPE = "login-failures"
USERNAME_CEILING_SCOPE = "login-username-ceiling"
# Longer usernames are refused by validation; such a body counts against the IP instead.
MAX_COUNTED_USERNAME = 256


def login_limits(username: Callable[[], object]) -> Callable[[View], View]:
    """Limit a login view: attempts per client IP, failures per username and IP, and a slowing ceiling."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def counted(*args: Any, **kwargs: Any) -> Any:
            target = username_bucket(username())
            try:
                answer = view(*args, **kwargs)
            except ApiError as exc:
                if target is not None and exc.status == 401 and exc.code != MFA_REQUIRED:
                    _count_failure(target)
                raise
            if target is not None and isinstance(answer, BaseResponse | Response) and is_failed_attempt(answer):
                _count_failure(target)
            return answer

        failures = limiter.shared_limit(
            lambda: repositories().settings.login_failure_rate_limit,
            scope=LOGIN_FAILURES_SCOPE,
            key_func=lambda: failure_bucket(username()),
            # Only failed attempts count: a user who logs in often is not locked out.
            deduct_when=is_failed_attempt,
        )
        per_ip = limiter.shared_limit(
            lambda: repositories().settings.login_ip_rate_limit, scope=LOGIN_IP_SCOPE, key_func=client_ip
        )
        # flask-limiter types its decorators as returning a bare callable; the view is the same one, wrapped.
        return cast(View, per_ip(failures(counted)))

    return decorate


def is_failed_attempt(response: BaseResponse) -> bool:
    """True for a refused login; not for ``mfa_required``, whose password was right (the code comes next)."""
    if response.status_code != 401:
        return False
    answer = response.get_json(silent=True) if isinstance(response, Response) else None
    error = answer.get("error") if isinstance(answer, dict) else None
    return not (isinstance(error, dict) and error.get("code") == MFA_REQUIRED)


def slow_down_if_targeted(username: str) -> None:
    """Wait before checking a password for a username past its failure ceiling (views call it).

    Called only for well-formed attempts (a valid body, the dashboard's CSRF token checked), right
    before the password is checked, so malformed requests cannot make the service wait. One attempt
    per username waits at a time in a process; another meanwhile gets a 429, so a flood of attempts
    cannot hold every worker asleep.
    """
    target = username_bucket(username)
    if target is None or not _ceiling_reached(target):
        return
    seconds = repositories().settings.login_slowdown_seconds
    with _sleepers_lock:
        if target in _sleepers:
            raise RateLimited(
                "Too many login attempts for this account right now; retry after the number of seconds in Retry-After",
                headers={"Retry-After": str(max(1, math.ceil(seconds)))},
            )
        _sleepers.add(target)
    try:
        time.sleep(seconds)
    finally:
        with _sleepers_lock:
            _sleepers.discard(target)


def username_bucket(username: object) -> str | None:
    """The counter name of a username attempted (its case-insensitive form), or None for no usable username."""
    if isinstance(username, str) and 0 < len(username) <= MAX_COUNTED_USERNAME:
        return f"user:{username_key(username)}"
    return None


def failure_bucket(username: object) -> str:
    """The counter of failed logins of one username from one client IP (the IP alone without a username)."""
    target = username_bucket(username)
    return f"{target}:ip:{client_ip()}" if target is not None else f"ip:{client_ip()}"


def _ceiling_reached(target: str) -> bool:
    # flask-limiter's own strategy and storage (DynamoDB by default), through its public `limiter`.
    ceiling = parse_limit(repositories().settings.login_username_failure_ceiling)
    try:
        return not limiter.limiter.test(ceiling, USERNAME_CEILING_SCOPE, target)
    except Exception:
        log.warning("login ceiling not checked: the counter could not be read")
        return False


def _count_failure(target: str) -> None:
    ceiling = parse_limit(repositories().settings.login_username_failure_ceiling)
    try:
        limiter.limiter.hit(ceiling, USERNAME_CEILING_SCOPE, target)
    except Exception:
        log.warning("login failure not counted towards the username's ceiling")
