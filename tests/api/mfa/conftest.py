"""What the two-factor tests share: a current code of a secret, and enrolling a user over HTTP."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from models.clock import FrozenClock
from models.mfa import STEP_SECONDS, code_at, time_step
from tests.conftest import bearer


@pytest.fixture
def alice(make_user):
    """A member of acme, the user these tests turn two-factor on for."""
    return make_user("alice", role="member")


@pytest.fixture
def headers(alice, login) -> dict[str, str]:
    """Alice's access token, as a header."""
    return bearer(login(alice)["access_token"])


def now_code(secret: str, clock: FrozenClock) -> str:
    """The code an authenticator shows for ``secret`` at the service's (frozen) time."""
    return code_at(secret, time_step(clock.now()))


def enrol(client: FlaskClient, headers: dict[str, str], clock: FrozenClock) -> tuple[str, list[str]]:
    """Turn TOTP on for the caller of ``headers``: its secret and recovery codes (the next step's code is fresh)."""
    started = client.post("/api/v1/me/mfa/totp", headers=headers)
    assert started.status_code == 201, started.get_json()
    secret = started.get_json()["secret"]
    confirmed = client.post("/api/v1/me/mfa/totp/confirm", json={"code": now_code(secret, clock)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.get_json()
    clock.advance(STEP_SECONDS)  # the confirming code is spent; the next step's is fresh
    return secret, confirmed.get_json()["recovery_codes"]
