"""The login form's CSRF token: signed by the service, double-submitted in a cookie and a hidden field.

Before login there is no session, and a failed login must not start one, so the form's token travels
twice: in a short-lived cookie and in the form. A plain double-submit trusts any pair that matches,
and an attacker who can plant a cookie (from a sibling subdomain, or over plain HTTP) picks the pair.
What stops that is the cookie's name: over HTTPS it has the ``__Host-`` prefix, which browsers accept
only from the host itself, Secure, on path ``/``, so no other host can plant it. The token is also
signed (an HMAC with a key derived from the signing secret for this purpose only, stamped with the
time it was made, refused after LOGIN_CSRF_SECONDS), so only tokens this service issued, recently,
are accepted; a signed token is not bound to a browser (anyone can fetch one from the login page), so
on plain http (dev and test, where the prefix cannot be used) a planted pair of a fresh token still
passes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from flask import Response, request
from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from handlers.dashboard.session import cookie_flags
from handlers.web.context import repositories

LOCAL_COOKIE = "nm_login_csrf"
# Over HTTPS: only this host can set it, and only Secure with Path=/.
HTTPS_COOKIE = "__Host-nm_login_csrf"
LOGIN_CSRF_SECONDS = 60 * 60
# A token older than this is replaced when the form is shown, so a form opened just before the
# cookie would expire still has time to be filled in.
RENEW_AFTER_SECONDS = LOGIN_CSRF_SECONDS - 15 * 60
SIGNED_TOKEN = re.compile(r"^[A-Za-z0-9_.-]{40,200}$")
_KEY_CONTEXT = b"nativemessage/dashboard-login-csrf/v1"


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer, on the service's clock (tests move it instead of sleeping)."""

    def get_timestamp(self) -> int:
        """Now, in whole seconds, by the app's clock."""
        return int(repositories().now().timestamp())


def login_csrf_cookie_name() -> str:
    """``__Host-nm_login_csrf`` over HTTPS, ``nm_login_csrf`` on a laptop or in tests (plain http)."""
    return LOCAL_COOKIE if repositories().settings.is_local else HTTPS_COOKIE


def login_csrf_token() -> tuple[str, bool]:
    """The login form's token and whether it is new (then ``set_login_csrf_cookie`` must send it)."""
    token = request.cookies.get(login_csrf_cookie_name(), "")
    if _is_valid(token, max_age=RENEW_AFTER_SECONDS):
        return token, False
    return _serializer().dumps(secrets.token_urlsafe(24)), True


def check_login_csrf() -> bool:
    """True when the form's token equals its cookie's and is one this service signed, within its lifetime."""
    cookie = request.cookies.get(login_csrf_cookie_name(), "")
    sent = request.form.get("csrf_token", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), sent.encode()):
        return False
    return _is_valid(cookie, max_age=LOGIN_CSRF_SECONDS)


def set_login_csrf_cookie(response: Response, token: str) -> None:
    """Send the login form's token cookie."""
    response.set_cookie(login_csrf_cookie_name(), token, **_flags(), max_age=LOGIN_CSRF_SECONDS)


def delete_login_csrf_cookie(response: BaseResponse) -> None:
    """Drop the login form's cookie once logged in."""
    response.delete_cookie(login_csrf_cookie_name(), **_flags())


def _flags() -> dict[str, Any]:
    flags = cookie_flags()
    if flags["secure"]:
        flags["path"] = "/"  # the __Host- prefix requires it
    return flags


def _is_valid(token: str, *, max_age: int) -> bool:
    if not SIGNED_TOKEN.match(token):
        return False
    try:
        _serializer().loads(token, max_age=max_age)
    except BadData:
        return False
    return True


def _serializer() -> URLSafeTimedSerializer:
    secret = repositories().signing_secret.get()
    key = hmac.new(secret.encode(), _KEY_CONTEXT, hashlib.sha256).digest()
    return URLSafeTimedSerializer(key, salt="nativemessage-dashboard-login-csrf", signer=_ClockSigner)
