"""Two-factor at sign-in, for the API and the dashboard alike: a login's one-time code, and the
organisation's requirement.

A login's code is used in the same transaction as the login's record, and a wrong one is a failed
login. An organisation's requirement means no new token for a user who has not turned two-factor on;
the API cannot enrol someone it will not give a token to, so the answer sends them to the
dashboard's two-factor page. Access tokens already issued live out their 15 minutes; API keys are the
organisation's, revoked by an admin, and never asked for a code.
"""

from __future__ import annotations

from handlers.web.audit import login_succeeded, record_login, recovery_code_used
from handlers.web.context import repositories
from handlers.web.errors import MFA_ENROLLMENT_REQUIRED, Forbidden
from models.mfa_repository import InvalidCode
from models.store.errors import NotFound
from models.users import User

ENROL_IN_DASHBOARD = (
    "Your organisation requires two-factor authentication: turn it on in the dashboard"
    " (Settings → Account → Two-factor), then log in again"
)


def sign_in_with_code(user: User, attempted: str, code: str, *, via: str) -> str | None:
    """Use ``code`` for ``user``'s login (``via``: api, dashboard): its kind, or None when wrong or already used.

    The code's use and the login's ``auth.login_succeeded`` (with a recovery code, also
    ``mfa.recovery_code_used``) are one transaction: a code is never spent by a login that is not
    recorded, nor the reverse. A wrong code is recorded as a failed login (``attempted``, as typed).
    """
    try:
        return repositories().mfa.use_code(
            user,
            code,
            audit=[login_succeeded(user, via=via)],
            recovery_audit=[recovery_code_used(user, via=via)],
        )
    except InvalidCode:
        record_login(user, attempted, succeeded=False, via=via)
        return None


def refuse_tokens_until_enrolled(user: User, *, read_fresh: bool = False) -> None:
    """403 ``mfa_enrollment_required`` when ``user`` has no two-factor and their tenant requires it.

    ``read_fresh`` (a login: the slow path) reads the tenant strongly consistently, so a ``tenants
    set-mfa`` applies to the next login at once; otherwise the per-process cache answers (at most a
    minute old, and already read by the rate limiter for this tenant: no DynamoDB call).
    """
    if user.mfa_enabled:
        return
    repos = repositories()
    if read_fresh:
        try:
            required = repos.tenants.get(user.tenant_id, consistent=True).mfa_required
        except NotFound:  # no tenant item, so no requirement (every user's tenant exists)
            required = False
    else:
        required = repos.tenant_cache.requires_mfa(user.tenant_id)
    if required:
        raise Forbidden(ENROL_IN_DASHBOARD, code=MFA_ENROLLMENT_REQUIRED)
