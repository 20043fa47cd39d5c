"""The one authentication path: resolve the request's principal once and keep it on the request state."""

from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from flask import Flask, current_app, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request

from handlers.web.context import repositories, request_state
from handlers.web.errors import Forbidden, InvalidRequest, Unauthorized
from handlers.web.token_cache import VerifiedTokenCache
from handlers.web.tokens import claims_as_sent
from models.accounts.credentials import active_account
from models.accounts.principal import Principal
from models.key_format import is_well_formed, key_digest, key_prefix
from models.roles import CREDENTIAL_PERMISSIONS, api_key_permissions, permissions_for
from models.store.errors import StoreUnavailable
from models.users import User

log = logging.getLogger(__name__)

VERIFIED_TOKENS_EXTENSION = "nativemessage.verified_tokens"
# One answer for unknown, revoked, expired and malformed keys: nothing to learn from the difference.
INVALID_API_KEY = "The API key is invalid, expired or revoked"


def current_principal() -> Principal:
    """The authenticated principal of this request (JWT or API key); Unauthorized when there is none."""
    state = request_state()
    if state.principal is not None:
        return state.principal
    if state.auth_failure is not None:
        raise state.auth_failure
    # The WSGI environ, not request.headers: the same values, without building a Headers view.
    environ = request.environ
    api_key = environ.get("HTTP_X_API_KEY")
    if api_key is None:
        principal = _principal_from_access_token()
    elif "HTTP_AUTHORIZATION" in environ:
        raise InvalidRequest("Send one credential: an Authorization header or an X-API-Key header, not both")
    else:
        principal = _principal_from_api_key(api_key)
    state.principal = principal
    return principal


def refresh_token_claims() -> dict[str, Any]:
    """This request's refresh token, verified once: signature, expiry, type, claims, not revoked (one read)."""
    state = request_state()
    if state.refresh_claims is None:
        if state.auth_failure is not None:
            raise state.auth_failure
        # flask-jwt-extended's errors are answered with the envelope by its callbacks.
        verify_jwt_in_request(refresh=True)
        state.refresh_claims = get_jwt()
    return state.refresh_claims


def refresh_token_account() -> User:
    """The live account behind this request's refresh token: enabled, same id, tenant and session generation."""
    state = request_state()
    if state.account is None:
        claims = refresh_token_claims()
        account = active_account(
            repositories().users, claims.get("usr"), claims.get("sub"), claims.get("tid"), claims.get("gen", 0)
        )
        if account is None:
            raise Unauthorized(
                "The token's user is disabled or no longer exists, or its sessions have ended"
                " (signed out everywhere, or the password changed)"
            )
        state.account = account
    return state.account


def caller_account() -> User:
    """The live account of a user's own token, access or refresh (not an API key): one read.

    For "sign out everywhere": a refresh token is checked as for a refresh (revocation, account,
    session generation); an access token must still name an enabled account.
    """
    if presented_token_type() == "refresh":
        return refresh_token_account()
    return access_token_account()


def access_token_account() -> User:
    """The live account of this request's access token, never an API key's: one read, kept for the request.

    For what only the person may do (sign out everywhere, change their password): 403 for an API key,
    401 when the account is disabled or gone; a refresh token is refused as by any access-token route.
    """
    state = request_state()
    if state.account is None:
        principal = current_principal()
        if principal.auth != "jwt":
            raise Forbidden("API keys cannot do this; use a user's own access token")
        user = active_account(repositories().users, principal.username, principal.user_id, principal.tenant_id)
        if user is None:
            raise Unauthorized("The account behind this token is disabled or no longer exists")
        state.account = user
    return state.account


def own_account_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Require a user's own access token naming a live account (``access_token_account``) before the view runs."""
    return _checked_first(access_token_account, view)


def presented_token_type() -> str | None:
    """The ``type`` claim of this request's bearer token, read without verifying it (to pick a path)."""
    claims = claims_as_sent()
    kind = claims.get("type") if claims else None
    return kind if isinstance(kind, str) else None


def _principal_from_api_key(presented: str) -> Principal:
    repos = repositories()
    # The format and checksum check costs no database read, so guessing is cheap to refuse.
    if not is_well_formed(presented, key_prefix(repos.settings.is_production)):
        raise Unauthorized(INVALID_API_KEY)
    request_state().credential_looked_up = True
    key = repos.api_keys.find_by_digest(key_digest(presented))
    now = repos.now()
    if key is None or not key.is_usable(now):
        raise Unauthorized(INVALID_API_KEY)
    try:
        repos.api_keys.touch_last_used(key, now)
    except StoreUnavailable:
        log.warning("last_used_at not recorded for key %s", key.key_id)
    return Principal(
        tenant_id=key.tenant_id,
        user_id=key.created_by,
        username=key.creator_username,
        role=key.creator_role,
        permissions=api_key_permissions(key.creator_role, key.permissions),
        auth="api_key",
        key_id=key.key_id,
    )


def _principal_from_access_token() -> Principal:
    # One verification per token per process: the cache holds what flask-jwt-extended verified.
    token = _bearer_token()
    secret_id = repositories().signing_secret.fingerprint
    cache: VerifiedTokenCache[Principal] = current_app.extensions[VERIFIED_TOKENS_EXTENSION]
    cached = cache.get(token, secret_id) if token else None
    if cached is not None:
        return cached
    # Raises flask-jwt-extended's errors, which the JWT callbacks answer with the envelope.
    verify_jwt_in_request()
    claims = get_jwt()
    principal = _principal_from_claims(claims)
    if token:
        cache.put(token, secret_id, claims.get("exp"), principal)
    return principal


def _principal_from_claims(claims: dict[str, Any]) -> Principal:
    tenant_id, role, username, user_id = claims.get("tid"), claims.get("role"), claims.get("usr"), claims.get("sub")
    if not (
        isinstance(tenant_id, str)
        and isinstance(role, str)
        and isinstance(username, str)
        and isinstance(user_id, str)
        and all((tenant_id, role, username, user_id))
    ):
        raise Unauthorized("The access token lacks required claims")
    return Principal(
        tenant_id=tenant_id,
        user_id=user_id,
        username=username,
        role=role,
        permissions=permissions_for(role),
        auth="jwt",
    )


def _bearer_token() -> str:
    scheme, _, token = request.environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token if scheme == "Bearer" else ""


def init_principal(app: Flask) -> None:
    """Give ``app`` its cache of verified access tokens."""
    app.extensions[VERIFIED_TOKENS_EXTENSION] = VerifiedTokenCache[Principal]()


def authenticated(view: Callable[..., Any]) -> Callable[..., Any]:
    """Require any authenticated principal."""
    return _checked_first(current_principal, view)


def _checked_first(check: Callable[[], object], view: Callable[..., Any]) -> Callable[..., Any]:
    # The view runs only once ``check`` has passed (it raises the answer otherwise), before its body is parsed.
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check()
        return view(*args, **kwargs)

    return wrapper


def require_permission(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Require a principal holding ``permission`` (401 without credentials, 403 without the right).

    Managing keys and users is checked against the caller's account as it is now (one consistent
    read), not as the 15-minute access token remembers it: a demoted or disabled admin loses these
    rights at once.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            if permission in CREDENTIAL_PERMISSIONS:
                if principal.auth == "api_key":
                    raise Forbidden("API keys cannot manage API keys or users; use a user's access token")
                principal = _refreshed_from_account(principal)
            if not principal.can(permission):
                raise Forbidden(f"This request needs the {permission} permission")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _refreshed_from_account(principal: Principal) -> Principal:
    user = active_account(repositories().users, principal.username, principal.user_id, principal.tenant_id)
    if user is None:
        raise Unauthorized("The account behind this token is disabled or no longer exists")
    current = principal.with_role(user.role)
    request_state().principal = current
    return current
