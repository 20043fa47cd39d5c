"""What each simulated user does: log in to its tenant, then read and send messages with its access token.

Run by ``bench/load/run.py`` (``make load``), headless, against a gunicorn on loopback. Every answer
to an authenticated request is tallied per tenant and rate-limit window (its X-RateLimit-Reset), so
the run can check that no window admitted more than the tenant's limit; the tally is written to
``LOAD_TALLY`` when the test stops.
"""

from __future__ import annotations

import itertools
import json
import os
import random
from collections import Counter

from locust import HttpUser, between, events, task

TENANTS = os.environ["LOAD_TENANTS"].split(",")
PASSWORD = os.environ["LOAD_PASSWORD"]
_next_user = itertools.count()
admitted: Counter[str] = Counter()  # "tenant window_end" -> admitted (not 429) authenticated requests
statuses: Counter[str] = Counter()


class TenantUser(HttpUser):
    """One person of one tenant, round-robin over the tenants."""

    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.tenant = TENANTS[next(_next_user) % len(TENANTS)]
        response = self.client.post(
            "/api/v1/auth/login", json={"username": f"admin@{self.tenant}", "password": PASSWORD}, name="login"
        )
        self.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}

    def _tally(self, response) -> None:
        statuses[str(response.status_code)] += 1
        if response.status_code != 429 and "X-RateLimit-Reset" in response.headers:
            admitted[f"{self.tenant} {response.headers['X-RateLimit-Reset']}"] += 1

    @task(5)
    def me(self) -> None:
        with self.client.get("/api/v1/me", headers=self.headers, name="GET /me", catch_response=True) as response:
            self._settle(response)

    @task(2)
    def list_messages(self) -> None:
        with self.client.get(
            "/api/v1/messages?limit=20", headers=self.headers, name="GET /messages", catch_response=True
        ) as response:
            self._settle(response)

    @task(1)
    def send(self) -> None:
        body = {"to": "+14155550123", "body": f"load {random.random()}"}  # noqa: S311 - not a secret
        with self.client.post(
            "/api/v1/messages", json=body, headers=self.headers, name="POST /messages", catch_response=True
        ) as response:
            self._settle(response)

    def _settle(self, response) -> None:
        self._tally(response)
        # A 429 is the limit working, not a failure of the service; anything 5xx is.
        if response.status_code == 429 or response.status_code < 400:
            response.success()
        else:
            response.failure(f"status {response.status_code}")


@events.test_stop.add_listener
def _write_tally(**_kwargs: object) -> None:
    with open(os.environ["LOAD_TALLY"], "w") as handle:
        json.dump({"admitted": admitted, "statuses": statuses}, handle)
