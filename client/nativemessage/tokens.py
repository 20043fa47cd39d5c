"""A user's tokens: when to renew the access token, and how (refresh, or log in again).

The rule, from the public page ("refresh proactively before expiration") and the issue's "less than
60 s or 10% of the token's life": the access token is renewed once less than a *margin* of its life is
left, where the margin is 60 s or 10% of its life, whichever is smaller, and never under 2 s (the
time a request may spend on the way and in the server's queue before its token is checked). A
15-minute token is renewed in its last minute; a 5-second one about 2 s after it was issued, not
before every request.

Its life is measured from the token's own claims (``exp - iat``), counted on this machine's monotonic
clock from the moment the request that obtained it was sent: no agreement between the two wall clocks
is needed. The claims are whole seconds, so the token may have been issued up to a second after its
``iat``; its end is therefore taken a second early.

Renewal uses the refresh token; when that is refused (expired or revoked), the client logs in again
if it was given a password, and otherwise raises ``AuthenticationError``. This module decides and
keeps state; the clients do the I/O, one renewal at a time, under their lock.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from nativemessage import calls
from nativemessage.calls import Call, Reply
from nativemessage.errors import AuthenticationError

MARGIN_SECONDS = 60.0
MARGIN_FRACTION = 0.1
MIN_MARGIN_SECONDS = 2.0
# Claims are whole seconds: a token may have been issued up to this long after its iat.
CLAIM_RESOLUTION = 1.0


@dataclass(frozen=True)
class _AccessToken:
    token: str
    renew_at: float  # monotonic
    expires_at: float  # monotonic, a conservative estimate


def renewal_margin(lifetime: float) -> float:
    """Seconds before the end of a token of ``lifetime`` seconds at which it is renewed."""
    return max(MIN_MARGIN_SECONDS, min(MARGIN_SECONDS, MARGIN_FRACTION * lifetime))


def token_lifetime(token: str, expires_in: Any) -> float:
    """The token's life in seconds from its own claims (``exp - iat``), else the answer's ``expires_in``."""
    claims = _unverified_claims(token)
    exp, iat = claims.get("exp"), claims.get("iat")
    if isinstance(exp, int | float) and isinstance(iat, int | float) and exp > iat:
        return float(exp - iat)
    return float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 0.0


def _unverified_claims(token: str) -> dict[str, Any]:
    # Read, not verified: the client only schedules its renewal with them; the server verifies.
    try:
        segment = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (IndexError, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


class TokenSession:
    """The access and refresh tokens of one user, and the decision to renew them."""

    def __init__(
        self,
        username: str | None,
        password: str | None,
        refresh_token: str | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.username = username
        self._password = password
        self._refresh_token = refresh_token
        self._access: _AccessToken | None = None
        self._clock = clock

    def __repr__(self) -> str:
        return f"TokenSession(username={self.username!r}, signed_in={self._access is not None})"

    def needs_renewal(self, refused: str | None = None) -> bool:
        """True without an access token, past its renewal time, or when ``refused`` is still the current one."""
        access = self._access
        if access is None or (refused is not None and access.token == refused):
            return True
        return self._clock() >= access.renew_at

    def headers(self) -> dict[str, str]:
        """The Authorization header of the current access token."""
        access = self._access
        if access is None:
            raise AuthenticationError(401, "invalid_token", "Not signed in")
        return {"Authorization": f"Bearer {access.token}"}

    def renewal(self) -> Generator[Call, Reply | AuthenticationError, None]:
        """Renew the access token: yields the calls to make, receives their reply or the 401 they met."""
        if self._refresh_token is not None:
            outcome = yield calls.refresh(self._refresh_token)
            if isinstance(outcome, Reply):
                self._accept(outcome)
                return
            self._refresh_token = None  # expired or revoked: never offered again
            if self._password is None:
                raise outcome
        if self.username is None or self._password is None:
            raise AuthenticationError(401, "invalid_token", "No refresh token and no password to log in with")
        outcome = yield calls.login(self.username, self._password)
        if not isinstance(outcome, Reply):
            raise outcome
        self._accept(outcome)

    def _accept(self, reply: Reply) -> None:
        body = reply.body if isinstance(reply.body, dict) else {}
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthenticationError(reply.status, "invalid_token", "The token answer held no access token")
        if isinstance(body.get("refresh_token"), str):
            self._refresh_token = body["refresh_token"]
        lifetime = token_lifetime(token, body.get("expires_in"))
        expires_at = reply.sent_at + lifetime - CLAIM_RESOLUTION
        self._access = _AccessToken(token, expires_at - renewal_margin(lifetime), expires_at)
