"""What handlers reach through Flask: the app's repositories, and this request's one state object."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app, g

from models.repositories import Repositories

if TYPE_CHECKING:
    from handlers.ratelimit.subject import Subject
    from models.accounts.principal import Principal
    from models.users import User

EXTENSION_KEY = "nativemessage"


def repositories() -> Repositories:
    """The repositories of the app handling the current request or CLI command."""
    repos: Repositories = current_app.extensions[EXTENSION_KEY]
    return repos


@dataclass(frozen=True)
class LocalWindow:
    """A rate-limit window counted in process memory: its size, what is left, and when it resets."""

    amount: int
    remaining: int
    reset_at: float


@dataclass
class RequestState:
    """Everything the service remembers about one request, in one typed object on ``g``."""

    request_id: str = ""
    started_at: float | None = None
    # The one principal resolver's answer, or the failure it raised (raised again on every ask).
    principal: Principal | None = None
    auth_failure: Exception | None = None
    # A refresh token's verified claims; the live account behind the request's own token (refresh,
    # sign out everywhere, a password change).
    refresh_claims: dict[str, Any] | None = None
    account: User | None = None
    # True once the credential was looked up in DynamoDB (not refused on its form alone).
    credential_looked_up: bool = False
    rate_limit_subject: Subject | None = None
    local_rate_limit: LocalWindow | None = None
    # Counted by handlers/ratelimit/local.py with flask-limiter's strategy: its hook skips the request.
    counted_here: bool = False
    # The tenant to log for requests without a principal (login, refresh, logout).
    log_tenant: str | None = None
    # The dashboard's session user, once looked up (None: no live session).
    session_checked: bool = False
    session_user: User | None = None

    @property
    def logged_tenant(self) -> str | None:
        """The tenant the request log names."""
        return self.principal.tenant_id if self.principal else self.log_tenant


def request_state() -> RequestState:
    """This request's state (``g.state``), created on first use."""
    # A request asks for its state a dozen times; each trip through Flask's ``g`` proxy costs about a
    # microsecond. The same object is also held in a context variable, forgotten when the app
    # context ends, so every ask after the first is a plain lookup.
    state = _current_state.get()
    if state is None:
        state = g.get("state")
        if state is None:
            state = g.state = RequestState()
        _current_state.set(state)
    return state


def init_request_state(app: Flask) -> None:
    """Forget the request's state handle when its app context ends (the state itself lives on ``g``)."""

    @app.teardown_appcontext
    def forget_request_state(_error: BaseException | None) -> None:
        _current_state.set(None)


_current_state: ContextVar[RequestState | None] = ContextVar("nativemessage_request_state", default=None)
