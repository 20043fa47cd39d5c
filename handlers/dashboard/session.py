"""The dashboard's login session and CSRF tokens.

The session is Flask's signed cookie, keyed by an HMAC of the JWT signing secret (read at request
time, so an SSM-held secret is fetched lazily and no other secret exists). The cookie is signed, not
encrypted: it holds ids, an expiry and the CSRF token, never a password or an API key. What makes
logout real is the session id (``sid``): logout stores it in ``revoked_tokens`` until the session's
expiry, and every page checks it, so a copy of the cookie taken before logout opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from handlers.web.context import EXTENSION_KEY, repositories, request_state
from handlers.web.errors import Forbidden
from models.accounts.credentials import active_account
from models.audit_record import AuditEvent
from models.users import User

URL_PREFIX = "/dashboard"
SESSION_COOKIE = "nm_session"
CSRF_FIELD = "csrf_token"
# An absolute lifetime: a working day, however active the session is.
SESSION_SECONDS = 8 * 60 * 60
# Namespaces session ids in revoked_tokens, next to refresh tokens' jtis.
SESSION_ID_PREFIX = "dash_"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
CSRF_REFUSED = "This form was not sent from this dashboard page, or it has expired. Reload the page and try again."
# The code step of a two-factor login: how long after the password it may be completed.
SECOND_STEP_SECONDS = 5 * 60
# Bumping the context invalidates every session without touching the JWT secret.
_KEY_CONTEXT = b"nativemessage/dashboard-session/v1"


def dashboard_path() -> str:
    """The dashboard's URL path, including any prefix the server mounts the app under (an API Gateway stage)."""
    return request.script_root + URL_PREFIX


def is_dashboard_path(path: str) -> bool:
    """True for ``/dashboard`` and everything below it (not ``/dashboardx``)."""
    return path == URL_PREFIX or path.startswith(URL_PREFIX + "/")


class DashboardSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with a derived key and fixed cookie flags.

    The flags come from the settings, not from ``app.config``, so no configuration can loosen them:
    HttpOnly, SameSite=Strict, Secure outside dev/test, scoped to the dashboard's path.
    """

    salt = "nativemessage-dashboard-session"

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """A serializer keyed by HMAC-SHA256(JWT signing secret, a dashboard-only context)."""
        secret = app.extensions[EXTENSION_KEY].signing_secret.get()
        key = hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
        return URLSafeTimedSerializer(
            key,
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={"key_derivation": self.key_derivation, "digest_method": self.digest_method},
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """The cookie's session, or an empty one; API requests never parse cookies nor derive the key."""
        if not is_dashboard_path(request.path):
            # The cookie is scoped to /dashboard: nothing to read elsewhere, and a null session tells
            # Flask there is nothing to save either (no cookie work on API requests).
            return self.make_null_session(app)
        value = request.cookies.get(SESSION_COOKIE)
        if not value:
            return self.session_class()
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        try:
            return self.session_class(serializer.loads(value, max_age=SESSION_SECONDS))
        except BadSignature:
            return self.session_class()

    def get_cookie_name(self, app: Flask) -> str:
        """The session cookie's name."""
        return SESSION_COOKIE

    def get_cookie_path(self, app: Flask) -> str:
        """Only the dashboard's pages receive the cookie."""
        return dashboard_path()

    def get_cookie_httponly(self, app: Flask) -> bool:
        """Scripts never read the cookie."""
        return True

    def get_cookie_samesite(self, app: Flask) -> str:
        """Never sent with a request started by another site."""
        return "Strict"

    def get_cookie_secure(self, app: Flask) -> bool:
        """HTTPS only, except on a laptop or in tests (plain http://127.0.0.1)."""
        return not app.extensions[EXTENSION_KEY].settings.is_local


def start_session(user: User) -> None:
    """Log ``user`` in: a fresh session id, CSRF token and expiry; any earlier session is ended first.

    The session carries the user's session generation: disabling the user ends it for good.
    """
    end_session()
    expires_at = int(repositories().now().timestamp()) + SESSION_SECONDS
    session.update(
        sid=SESSION_ID_PREFIX + secrets.token_hex(16),
        uid=user.user_id,
        usr=user.username,
        tid=user.tenant_id,
        exp=expires_at,
        gen=user.session_generation,
        csrf=secrets.token_urlsafe(32),
    )


@dataclass(frozen=True)
class PendingLogin:
    """A dashboard login whose password was right and whose one-time code is still to come."""

    user_id: str
    username: str
    tenant_id: str
    generation: int
    codes_used_mark: str
    expires_at: int


def start_second_step(user: User) -> None:
    """Remember, in the signed cookie only, that ``user``'s password was right; no session exists yet.

    Any session or earlier step of this browser ends first. The step lasts SECOND_STEP_SECONDS
    and carries its own CSRF token for the code form; it names the user, never the password, so
    the code page cannot re-enter or change the password step: only "Start over" leaves it. It
    notes the user's ``codes_used_mark``: once any code of the user is accepted (this step's own
    included), the mark moves on and the step, or a copy of its cookie, opens nothing more.
    """
    end_session()
    session.update(
        step_uid=user.user_id,
        step_usr=user.username,
        step_tid=user.tenant_id,
        step_gen=user.session_generation,
        step_mark=user.codes_used_mark,
        step_exp=int(repositories().now().timestamp()) + SECOND_STEP_SECONDS,
        csrf=secrets.token_urlsafe(32),
    )


def pending_login() -> PendingLogin | None:
    """This browser's second step, if it is one and has not expired (the user is checked by its reader)."""
    values = [session.get(name) for name in ("step_uid", "step_usr", "step_tid", "step_mark")]
    generation, expires_at = session.get("step_gen"), session.get("step_exp")
    if not all(isinstance(value, str) and value for value in values):
        return None
    if not isinstance(generation, int) or not isinstance(expires_at, int):
        return None
    if expires_at <= repositories().now().timestamp():
        return None
    user_id, username, tenant_id, mark = (str(value) for value in values)
    return PendingLogin(user_id, username, tenant_id, generation, mark, expires_at)


def pending_login_username() -> str | None:
    """The username of this browser's second step, without checking it (the login limits' key)."""
    username = session.get("step_usr")
    return username if isinstance(username, str) and username else None


def continue_session(user: User) -> None:
    """Keep this browser signed in after its user's own password change moved their session generation on.

    A new session id and CSRF token, stamped with the new generation; the login's expiry stays. The
    cookie held before (and every other session) still names the old generation, so it opens nothing.
    """
    session.update(
        sid=SESSION_ID_PREFIX + secrets.token_hex(16), gen=user.session_generation, csrf=secrets.token_urlsafe(32)
    )
    state = request_state()
    state.session_user, state.session_checked = user, True


def end_session(audit: Sequence[AuditEvent] = ()) -> None:
    """Revoke this session's id server-side until it would have expired (with ``audit``), and empty the cookie."""
    sid, expires_at = session.get("sid"), session.get("exp")
    if isinstance(sid, str) and isinstance(expires_at, int):
        repositories().revoked_tokens.revoke(sid, expires_at, audit=audit)
    session.clear()


def session_user() -> User | None:
    """The session's user, re-read from DynamoDB: None if logged out, expired, revoked, disabled or gone."""
    state = request_state()
    if not state.session_checked:
        state.session_user = _load_session_user()
        state.session_checked = True
    return state.session_user


def session_tenant() -> str | None:
    """The tenant of this dashboard request's live session, or None (the rate limiter counts it there)."""
    if not is_dashboard_path(request.path) or not had_session():
        return None
    user = session_user()
    return user.tenant_id if user is not None else None


def had_session() -> bool:
    """True when the request carried a login session, valid or not (to say it has ended)."""
    return "sid" in session


def _load_session_user() -> User | None:
    values = [session.get(name) for name in ("sid", "uid", "usr", "tid")]
    expires_at = session.get("exp")
    if not all(isinstance(value, str) and value for value in values) or not isinstance(expires_at, int):
        return None
    sid, user_id, username, tenant_id = values
    repos = repositories()
    if expires_at <= repos.now().timestamp() or repos.revoked_tokens.is_revoked(str(sid)):
        return None
    user = active_account(repos.users, username, user_id, tenant_id, session.get("gen", 0))
    if user is not None:
        request_state().log_tenant = user.tenant_id
    return user


def csrf_token() -> str:
    """This session's CSRF token, for the hidden field of every form."""
    token = session.get("csrf")
    return token if isinstance(token, str) else ""


def check_csrf() -> None:
    """Refuse (403) a POST whose hidden token is missing or differs from the session's."""
    if not _same_token(session.get("csrf"), request.form.get(CSRF_FIELD)):
        raise Forbidden(CSRF_REFUSED)


def cookie_flags() -> dict[str, Any]:
    """The flags of the dashboard's cookies: HttpOnly, SameSite=Strict, Secure outside dev/test, the dashboard's path."""
    return {
        "path": dashboard_path(),
        "httponly": True,
        "samesite": "Strict",
        "secure": not repositories().settings.is_local,
    }


def _same_token(expected: object, sent: object) -> bool:
    if not isinstance(expected, str) or not isinstance(sent, str) or not TOKEN_PATTERN.match(expected):
        return False
    return hmac.compare_digest(expected.encode(), sent.encode())
