"""Assertions the sync and the async client's tests share: what the server saw, what the client waited."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

from client_stack import Recorder, Stack


def claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified (the test reads its exp)."""
    segment = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def assert_refreshed_before_expiry(stack: Stack, recorder: Recorder, minimum: int) -> None:
    """Each access token was refreshed before it expired, one refresh at a time; the server never said 401."""
    lines = stack.server_lines(recorder.tag, expected=len(recorder.attempts))
    assert len(lines) == len(recorder.attempts)
    assert [line for line in lines if line.status != 200] == []  # in particular, never a 401
    assert [a.status for a in recorder.attempts] == [200] * len(recorder.attempts)

    refreshes = recorder.to("POST", "/auth/refresh")
    assert len(refreshes) >= minimum, [(a.method, a.path) for a in recorder.attempts]
    # One refresh at a time: the next one only once the new token nears its own end (about 2 s of a
    # 5-second token), never a burst of threads or tasks each renewing the same token.
    gaps = [later.sent - earlier.sent for earlier, later in itertools.pairwise(refreshes)]
    assert min(gaps) >= 1.5, gaps
    for refresh in refreshes:
        used_before = [a.bearer for a in recorder.attempts if a.path.endswith("/me") and a.sent < refresh.sent]
        # On this machine's clock, which is the server's: the token being replaced had not expired.
        assert refresh.sent_wall < claims(used_before[-1])["exp"]
    tokens_used = {a.bearer for a in recorder.attempts if a.path.endswith("/me")}
    assert len(tokens_used) == len(refreshes) + 1  # the login's token, then one per refresh


def assert_backoff_honoured(recorder: Recorder) -> None:
    """Every retry of a send came no sooner than the Retry-After of the answer it retried, under the same key."""
    sends = recorder.to("POST", "/messages")
    retried = 0
    for index, attempt in enumerate(sends):
        if attempt.status != 429:
            continue
        assert attempt.retry_after is not None and attempt.retry_after >= 1
        following = [a for a in sends[index + 1 :] if a.idempotency_key == attempt.idempotency_key]
        assert following, "a 429 that was never retried"
        assert attempt.answered is not None
        assert following[0].sent - attempt.answered >= attempt.retry_after
        retried += 1
    assert retried > 0, "no send met the limit: the test did not test backoff"
    assert all(a.idempotency_key for a in sends)
