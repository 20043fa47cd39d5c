"""Access tokens this process has already verified, so each is verified once, not on every request.

An access token is not individually revocable (a refresh token is): once flask-jwt-extended has
verified one (signature, expiry, issuer, audience, type, required claims), the answer stays the same
until the token's ``exp``. So what was made of it (the principal) is kept, keyed by the exact token
string, until then; the cache changes no security property. Entries are dropped when the signing secret changes (a rotation
ends every token at once), and the cache is bounded. Refresh tokens are never cached: each use is
checked against the revocation list.
"""

from __future__ import annotations

import threading
import time
from typing import Generic, TypeVar

MAX_ENTRIES = 10_000
Verified = TypeVar("Verified")


class VerifiedTokenCache(Generic[Verified]):
    """What was made of verified access tokens, each until its ``exp``, for one signing secret at a time."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: dict[str, tuple[float, Verified]] = {}
        self._secret_id = ""
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, token: str, secret_id: str) -> Verified | None:
        """What ``token`` gave if it was verified under this secret and has not expired."""
        entry = self._entries.get(token)
        if entry is None or secret_id != self._secret_id:
            return None
        if entry[0] <= time.time():
            with self._lock:
                self._entries.pop(token, None)
            return None
        return entry[1]

    def put(self, token: str, secret_id: str, expires: object, verified: Verified) -> None:
        """Remember what a token flask-jwt-extended has just verified gave, until its ``exp``."""
        if not isinstance(expires, int | float):
            return
        with self._lock:
            if secret_id != self._secret_id:
                self._entries.clear()  # another signing secret: nothing verified before counts
                self._secret_id = secret_id
            if len(self._entries) >= self._max:
                now = time.time()
                self._entries = {key: value for key, value in self._entries.items() if value[0] > now}
                while len(self._entries) >= self._max:
                    self._entries.pop(next(iter(self._entries)))  # the oldest first
            self._entries[token] = (float(expires), verified)
