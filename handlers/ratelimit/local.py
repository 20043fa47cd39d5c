"""What process memory decides without a DynamoDB write: windows known full, refused credentials."""

from __future__ import annotations

from flask import request

from handlers.ratelimit.extension import APPLICATION_SCOPE, limiter
from handlers.ratelimit.headers import rate_limited
from handlers.ratelimit.saturation import known_full_until, local_limiter, remember_full
from handlers.ratelimit.subject import ROUTE_LIMITED_ENDPOINTS, Subject, is_exempt, rate_limit_subject
from handlers.web.context import LocalWindow, request_state
from models.store.limits_leasing import LeasedFixedWindowRateLimiter


def check_local_limits() -> None:
    """Decide in process memory what needs no DynamoDB write: known-full windows, refused credentials."""
    if is_exempt():
        return
    subject = rate_limit_subject()
    item = subject.item
    if subject.local:
        local = local_limiter()
        allowed = local.hit(item, subject.key)
        reset_at, remaining = local.get_window_stats(item, subject.key)
        request_state().local_rate_limit = LocalWindow(item.amount, remaining, reset_at)
        if not allowed:
            raise rate_limited(subject, item.amount, reset_at)
        return
    # A tenant flooding past its limit must not become a flood of DynamoDB writes to one item.
    full_until = known_full_until(subject.key, item.amount)
    if full_until is not None:
        raise rate_limited(subject, item.amount, full_until)
    _count_with_the_leased_strategy(subject)


def _count_with_the_leased_strategy(subject: Subject) -> None:
    # flask-limiter's request hook resolves and evaluates every limit of the app for each request:
    # about a quarter of a request's time. A tenant request of an endpoint without limits of its own
    # needs only the tenant's window, so it is counted here with flask-limiter's own strategy object
    # (its storage, its key), and flask-limiter's hook is filtered for it. While that strategy cannot
    # lease (the in-memory fallback after a DynamoDB failure) flask-limiter counts as before, and
    # finds its way back to DynamoDB by itself.
    strategy = limiter.limiter
    if not isinstance(strategy, LeasedFixedWindowRateLimiter) or not strategy.leases:
        return
    if request.endpoint in ROUTE_LIMITED_ENDPOINTS or not subject.key.startswith("tenant:"):
        return
    item = subject.item
    try:
        allowed = strategy.hit(item, subject.key, APPLICATION_SCOPE)
        reset_at, remaining = strategy.get_window_stats(item, subject.key, APPLICATION_SCOPE)
    except Exception:
        return  # flask-limiter's hook counts it, with its fallback, as for any storage failure
    state = request_state()
    state.counted_here = True
    state.local_rate_limit = LocalWindow(item.amount, remaining, reset_at)
    if not allowed:
        remember_full(subject.key, item.amount, reset_at)
        raise rate_limited(subject, item.amount, reset_at)
