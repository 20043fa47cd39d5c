"""When to retry and how long to wait: exponential backoff with full jitter, floored by the server's word.

What may be retried depends on whether the request may have done something on the server:

- a 429: never (the limiter refused it before anything ran), so any request is retried;
- a 503 or a network failure after the request may have left: only idempotent requests (reads,
  deletes, refresh, and a send with its Idempotency-Key), because e.g. a key may have been minted;
- a network failure before anything was sent (refused or timed-out connection): any request.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx

DEFAULT_MAX_RETRIES = 3
# The longest a call may take, waits and retries included: room to wait out one full per-minute window.
DEFAULT_DEADLINE = 120.0
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0

# Failures httpx raises before a byte of the request was sent.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Failures worth retrying at all (not, e.g., an unsupported URL scheme).
TRANSIENT = (httpx.NetworkError, httpx.TimeoutException, httpx.RemoteProtocolError)


@dataclass(frozen=True)
class RetryPolicy:
    """How many retries, within how long, and the exponential range their jitter is drawn from."""

    max_retries: int = DEFAULT_MAX_RETRIES
    deadline: float = DEFAULT_DEADLINE
    base: float = BACKOFF_BASE
    cap: float = BACKOFF_CAP
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0 or self.deadline <= 0 or self.base <= 0 or self.cap < self.base:
            raise ValueError("max_retries must be 0 or more, deadline and base positive, cap at least base")

    def delay(self, retry: int, floor: float | None = None) -> float:
        """Seconds before retry number ``retry`` (0 first): full jitter, never less than ``floor``.

        The jitter is added to the server's floor rather than compared with it, so that clients told
        the same Retry-After do not all come back in the same instant.
        """
        jitter = self.rng.uniform(0, min(self.cap, self.base * 2**retry))
        return jitter if floor is None else max(0.0, floor) + jitter


def status_is_retryable(status: int, idempotent: bool) -> bool:
    """True for answers that say "later": a 429 always, a 503 when repeating the request is harmless."""
    return status == 429 or (status == 503 and idempotent)


def failure_is_retryable(failure: httpx.TransportError, idempotent: bool) -> bool:
    """True for a transient network failure that repeating cannot turn into a second effect."""
    if not isinstance(failure, TRANSIENT):
        return False
    return idempotent or isinstance(failure, NOT_SENT)
