"""DynamoDB faults at every step of every multi-step flow: a 503 with Retry-After, never a 500,
and the stored state is as before the request (or, where the counter failed, as after it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from handlers.ratelimit import limiter
from models.store.limits_leasing import LeasedFixedWindowRateLimiter
from tests.conftest import api_key, assert_error, bearer

FAULTS = {
    "throttled": lambda op: ClientError(
        {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}}, op
    ),
    "timeout": lambda op: ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com"),
    "internal": lambda op: ClientError(
        {"Error": {"Code": "InternalServerError", "Message": "oops"}, "ResponseMetadata": {"HTTPStatusCode": 500}}, op
    ),
}


@dataclass
class Injector:
    """Counts the app's DynamoDB calls and fails the one at ``fail_at`` (before it is sent)."""

    prefix: str
    calls: list[str] = field(default_factory=list)
    fail_at: int | None = None
    fault: str = "throttled"

    def record(self, event_name: str, params: dict[str, Any] | None = None, **_: Any) -> None:
        operation = event_name.rsplit(".", 1)[-1]
        table = (params or {}).get("TableName", "") or _transaction_tables(params)
        self.calls.append(f"{operation}:{table.removeprefix(self.prefix)}")

    def before_call(self, event_name: str, **_: Any) -> None:
        # Raised before the request is sent (and outside botocore's retries): nothing reaches DynamoDB.
        if self.fail_at is not None and len(self.calls) - 1 == self.fail_at:
            raise FAULTS[self.fault](event_name.rsplit(".", 1)[-1])


def _transaction_tables(params: dict[str, Any] | None) -> str:
    items = (params or {}).get("TransactItems", [])
    return "+".join(sorted({next(iter(action.values()))["TableName"].split("-", 1)[-1] for action in items}))


@pytest.fixture
def injector(repos) -> Iterator[Injector]:
    injector = Injector(repos.settings.table_prefix)
    events = repos.db.client.meta.events
    events.register("before-parameter-build.dynamodb", injector.record)
    events.register("before-call.dynamodb", injector.before_call)
    yield injector
    events.unregister("before-parameter-build.dynamodb", injector.record)
    events.unregister("before-call.dynamodb", injector.before_call)


@dataclass
class Flow:
    """A request, how to tell from the store whether it happened, and what it should answer."""

    request: Callable[[], Any]
    happened: Callable[[], bool]
    status: int


def forget_leases() -> None:
    """Drop the permits this process holds, so the next request leases (writes the counter) again."""
    strategy = limiter.limiter
    if isinstance(strategy, LeasedFixedWindowRateLimiter):
        strategy.forget()


def check_every_step(injector: Injector, make_flow: Callable[[], Flow], fault: str) -> list[str]:
    """Run the flow once to learn its calls, then again with each call failing in turn."""
    make_flow().request()  # warm the per-process caches (the tenant's limit) so every run makes the same calls
    rehearsal = make_flow()
    forget_leases()
    injector.calls.clear()
    response = rehearsal.request()
    assert response.status_code == rehearsal.status, response.get_data(as_text=True)
    steps = list(injector.calls)
    for position, step in enumerate(steps):
        flow = make_flow()
        forget_leases()  # every run leases its permit afresh, so it makes the same calls as the rehearsal
        injector.calls.clear()
        injector.fail_at, injector.fault = position, fault
        response = flow.request()
        injector.fail_at = None
        # A failed counter switches the limiter to memory; the next run must count in DynamoDB again.
        limiter._storage_dead = False
        if step.endswith(":rate_limits"):
            # The counter fails open: the request is served, counted in process memory.
            assert response.status_code == flow.status, (step, response.get_data(as_text=True))
            assert flow.happened(), step
        elif step == "UpdateItem:accounts" and "last_used" in flow.request.__name__:
            assert response.status_code == flow.status
        else:
            assert response.status_code == 503, (position, step, steps)
            assert_error(response, 503, "unavailable")
            assert response.headers["Retry-After"] == "1"
            assert not flow.happened(), f"{step} failed but the write happened anyway"
    return steps


@pytest.mark.parametrize("fault", list(FAULTS))
def test_user_creation(client, repos, admin, injector, fault):
    counter = iter(range(1000))

    def make_flow() -> Flow:
        name = f"new-user-{next(counter)}"
        return Flow(
            request=lambda: client.post(
                "/api/v1/users",
                json={"username": name, "password": "a long enough password", "role": "member"},
                headers=admin,
            ),
            happened=lambda: repos.users.find_by_username(name) is not None,
            status=201,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert "TransactWriteItems:accounts+audit_events" in steps
    # The audit record went with its change, every time: one user.created per user, none for the faults.
    created = {user.user_id for user in repos.users.list_for_tenant("acme") if user.username.startswith("new-user-")}
    recorded = repos.audit.page("acme", limit=200, action="user.created").items
    assert created and sorted(event.target_id for event in recorded) == sorted(created)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_key_creation(client, repos, make_user, login, injector, fault):
    member = make_user("maria", role="member")
    headers = bearer(login(member)["access_token"])

    def make_flow() -> Flow:
        before = len(repos.api_keys.list_for_tenant("acme"))
        return Flow(
            request=lambda: client.post("/api/v1/api-keys", json={"name": "k"}, headers=headers),
            happened=lambda: len(repos.api_keys.list_for_tenant("acme")) > before,
            status=201,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert "TransactWriteItems:accounts+audit_events" in steps
    # Every key the user holds is in their list of live keys, and no list entry lacks its key.
    user = repos.users.find_by_username("maria")
    assert {key.key_id for key in repos.api_keys.list_for_tenant("acme")} == set(user.api_keys)
    recorded = repos.audit.page("acme", limit=200, action="api_key.created").items
    assert sorted(event.target_id for event in recorded) == sorted(user.api_keys)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_role_change_propagated_to_keys(client, repos, make_user, login, admin, make_key, injector, fault):
    member = make_user("maria", role="member")
    keys = [make_key(bearer(login(member)["access_token"]), name=f"k{n}")["key"] for n in range(2)]

    def make_flow() -> Flow:
        # Always a real change: the role it does not have now.
        target = "viewer" if repos.users.find_by_username("maria").role == "member" else "member"
        return Flow(
            request=lambda: client.patch(f"/api/v1/users/{member.user_id}", json={"role": target}, headers=admin),
            happened=lambda: repos.users.find_by_username("maria").role == target,
            status=200,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert "TransactWriteItems:accounts+audit_events" in steps
    # The user and every key agree: no half-applied change survived any fault.
    role = repos.users.find_by_username("maria").role
    for key in keys:
        assert client.get("/api/v1/me", headers=api_key(key)).get_json()["role"] == role


@pytest.mark.parametrize("fault", list(FAULTS))
def test_key_rotation(client, repos, admin, make_key, injector, fault):
    def make_flow() -> Flow:
        old = make_key(admin, name="rotating")
        before = len(repos.api_keys.list_for_tenant("acme"))

        def happened() -> bool:
            return len(repos.api_keys.list_for_tenant("acme")) > before

        def request():
            return client.post(f"/api/v1/api-keys/{old['id']}/rotate", json={"grace_seconds": 0}, headers=admin)

        return Flow(request=request, happened=happened, status=201)

    check_every_step(injector, make_flow, fault)


@pytest.mark.parametrize("fault", list(FAULTS))
def test_key_revocation(client, repos, admin, make_key, injector, fault):
    def make_flow() -> Flow:
        created = make_key(admin, name="doomed")
        return Flow(
            request=lambda: client.delete(f"/api/v1/api-keys/{created['id']}", headers=admin),
            happened=lambda: repos.api_keys.get_in_tenant("acme", created["id"]).revoked_at is not None,
            status=204,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert "TransactWriteItems:accounts+audit_events" in steps


@pytest.mark.parametrize("fault", list(FAULTS))
def test_idempotent_message_send(client, repos, admin, injector, fault):
    counter = iter(range(1000))

    def make_flow() -> Flow:
        key = f"send-{next(counter)}"
        return Flow(
            request=lambda: client.post(
                "/api/v1/messages", json={"to": "+14155550123", "body": key}, headers={**admin, "Idempotency-Key": key}
            ),
            happened=lambda: any(m.body == key for m in repos.messages.page("acme", 100).items),
            status=201,
        )

    steps = check_every_step(injector, make_flow, fault)
    assert "TransactWriteItems:idempotency+messages" in steps


@pytest.mark.parametrize("fault", list(FAULTS))
def test_login(client, make_user, injector, fault):
    account = make_user("alice")

    def make_flow() -> Flow:
        return Flow(
            request=lambda: client.post("/api/v1/auth/login", json={"username": "alice", "password": account.password}),
            happened=lambda: True,  # login writes nothing that matters (a hash upgrade at most)
            status=200,
        )

    make_flow().request()  # warm the caches
    forget_leases()
    injector.calls.clear()
    response = make_flow().request()
    assert response.status_code == 200
    steps = list(injector.calls)
    for position, step in enumerate(steps):
        forget_leases()
        injector.calls.clear()
        injector.fail_at, injector.fault = position, fault
        response = make_flow().request()
        injector.fail_at = None
        limiter._storage_dead = False
        expected = 200 if step.endswith(":rate_limits") else 503
        assert response.status_code == expected, (step, response.get_data(as_text=True))
        if expected == 503:
            assert response.headers["Retry-After"] == "1"


def test_a_failed_last_use_write_does_not_fail_the_request(client, admin, make_key, injector):
    key = make_key(admin)["key"]
    injector.calls.clear()
    injector.fail_at = 1  # the key read succeeds; the last-used write (the second call) fails
    response = client.get("/api/v1/me", headers=api_key(key))
    injector.fail_at = None
    assert response.status_code == 200
    assert injector.calls[1] == "UpdateItem:accounts"
