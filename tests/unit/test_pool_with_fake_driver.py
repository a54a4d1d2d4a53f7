"""The pool's lifecycle decisions, with a fake driver and fake agents that count their calls."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from orchestrator.drivers.base import (
    Driver,
    ExitListener,
    FunctionFiles,
    InstanceHandle,
    InstanceSpec,
    OwnedInstance,
)
from orchestrator.function_config import FunctionConfig
from orchestrator.function_credentials import MAX_LIFETIME_S, FunctionCredentials
from orchestrator.instance import Event, Instance, State, StopReason
from orchestrator.pool import Lease, Pool
from orchestrator.settings import Settings


class FakeDriver(Driver):
    name = "fake"

    def __init__(self) -> None:
        self.started: list[InstanceSpec] = []
        self.stopped: list[str] = []
        self.listener: ExitListener | None = None

    async def watch(self, listener: ExitListener) -> None:
        self.listener = listener

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        self.started.append(spec)
        return InstanceHandle(spec.instance_id, "fake", len(self.started))

    async def stop(self, handle: InstanceHandle) -> None:
        self.stopped.append(handle.instance_id)

    async def list_owned(self) -> list[OwnedInstance]:
        return []

    async def reap_owned(self) -> int:
        return 0

    async def exit_reason(self, handle: InstanceHandle) -> str | None:
        return None

    def available_runtimes(self) -> list[str]:
        return ["python3.11"]

    def api_host_for_instances(self) -> str:
        return "127.0.0.1"

    async def allow_api_port(self, port: int) -> None:
        pass


class FakeAgent:
    def __init__(self, host: str, port: int, token: str, dial: object = None) -> None:
        self.closed = False

    async def wait_ready(self, timeout_s: float) -> None:
        pass

    async def health(self) -> dict[str, Any]:
        return {"runtime": "ready"}

    async def close(self) -> None:
        self.closed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def config(revision: str = "r1", **tags: str) -> FunctionConfig:
    return FunctionConfig(
        name="fn", runtime="python3.11", handler="app.h", role="r", code_sha256_hex="ab",
        code_sha256="q", code_size=1, revision_id=revision, tags=tags,
    )  # fmt: skip


@pytest.fixture
def setup() -> tuple[Pool, FakeDriver, Clock]:
    driver, clock = FakeDriver(), Clock()
    settings = Settings(idle_timeout_s=60, max_lifetime_s=3600, lifetime_jitter=0.0)
    pool = Pool(driver, settings, "srv", clock=clock, agent_factory=FakeAgent)  # type: ignore[arg-type]
    return pool, driver, clock


def code() -> FunctionFiles:
    return FunctionFiles(Path("/nonexistent"))


_leases: dict[Instance, contextlib.AbstractAsyncContextManager[Lease]] = {}


async def hold(pool: Pool, cfg: FunctionConfig) -> tuple[Instance, bool]:
    """Enter a lease and keep it open across the test's steps (as an invocation would)."""
    context = pool.lease(cfg, code)
    lease = await context.__aenter__()
    _leases[lease.instance] = context
    return lease.instance, lease.cold


async def release(instance: Instance) -> None:
    await _leases.pop(instance).__aexit__(None, None, None)


async def fail(instance: Instance, exc: BaseException) -> None:
    """The lease's body raised: the context manager sees the exception and lets it through."""
    suppressed = await _leases.pop(instance).__aexit__(type(exc), exc, None)
    assert not suppressed, "a lease never swallows what escaped its body"


def state_of(instance: Instance) -> State:
    """The state, read through a call: mypy would keep an earlier assert's narrowing instead."""
    return instance.state


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_cold_then_warm_reuses_the_instance(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, _ = setup
    first, cold = await hold(pool, config())
    assert cold and first.state is State.BUSY
    await release(first)
    second, cold = await hold(pool, config())
    assert not cold and second is first and len(driver.started) == 1


async def test_concurrent_demand_starts_separate_instances(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, _ = setup
    results = await asyncio.gather(*(hold(pool, config()) for _ in range(5)))
    assert len({instance.id for instance, _ in results}) == 5 and len(driver.started) == 5


async def test_idle_timeout_stops_and_tag_overrides(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, clock = setup
    default, _ = await hold(pool, config())
    await release(default)
    quick, _ = await hold(pool, config("r2", **{"lambkin:idle-timeout": "5"}))
    await release(quick)
    clock.now += 6
    pool.tick()
    await settle()
    assert driver.stopped == [quick.id] and quick.stop_reason == "idle"
    clock.now += 60
    pool.tick()
    await settle()
    assert driver.stopped == [quick.id, default.id]
    assert pool.instances() == []


async def test_lifetime_drains_a_busy_instance_without_failing_it(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, clock = setup
    busy, _ = await hold(pool, config())
    clock.now += 3601
    pool.tick()
    assert busy.state is State.DRAINING and driver.stopped == []
    nxt, cold = await hold(pool, config())
    assert cold and nxt is not busy, "a draining instance takes no new work"
    await release(busy)
    await settle()
    assert driver.stopped == [busy.id] and busy.stop_reason == "lifetime"


async def test_max_invocations_retires(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, _ = setup
    cfg = config(**{"lambkin:max-invocations": "2"})
    instance, _ = await hold(pool, cfg)
    await release(instance)
    again, _ = await hold(pool, cfg)
    assert again is instance
    await release(again)
    await settle()
    assert driver.stopped == [instance.id]


async def test_update_retires_old_revision(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, _ = setup
    (idle, _), (busy, _) = await asyncio.gather(
        hold(pool, config("old")), hold(pool, config("old"))
    )
    await release(idle)
    pool.retire("fn", keep_revision="new", reason=StopReason.UPDATE)
    await settle()
    assert driver.stopped == [idle.id] and busy.state is State.DRAINING
    fresh, cold = await hold(pool, config("new"))
    assert cold and fresh.revision_id == "new"


async def test_exit_listener_stops_idle_and_fails_busy_fast(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, _ = setup
    await pool.start_housekeeping()
    (idle, _), (busy, _) = await asyncio.gather(hold(pool, config()), hold(pool, config()))
    await release(idle)
    assert driver.listener is not None
    driver.listener(idle.id, None)
    driver.listener(busy.id, "oom")
    await settle()
    assert idle.state is State.STOPPED and idle.stop_reason == "crash"
    assert busy.agent.closed, "the in-flight request is failed at once"  # type: ignore[union-attr]
    await pool.shutdown(drain_s=0)


async def test_provisioned_instance_initializes_ahead_and_never_idles_out(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, clock = setup
    pending = pool.new_provisioned(config())
    assert pending.state is State.STARTING and pool.instances() == [pending], (
        "counted before it starts"
    )
    await pool.start_provisioned(pending, config(), code)
    [instance] = pool.instances()
    assert instance.provisioned and instance.state is State.IDLE
    assert driver.started[0].initialization_type == "provisioned-concurrency"
    clock.now = instance.created_at + 3599  # idle far past the 60 s timeout, not past its lifetime
    pool.tick()
    assert instance.state is State.IDLE


async def test_shutdown_stops_everything(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, _ = setup
    (a, _), (b, _) = await asyncio.gather(hold(pool, config()), hold(pool, config()))
    await release(a)
    await release(b)
    await pool.shutdown(drain_s=0)
    assert sorted(driver.stopped) == sorted([a.id, b.id]) and pool.instances() == []


class HangingDriver(FakeDriver):
    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        self.started.append(spec)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


async def test_start_timeout_removes_the_instance_and_says_so() -> None:
    from orchestrator.drivers.base import StartFailed

    driver = HangingDriver()
    pool = Pool(driver, Settings(instance_start_timeout_s=0.05), "srv", agent_factory=FakeAgent)  # type: ignore[arg-type]
    with pytest.raises(StartFailed, match="did not start within"):
        await hold(pool, config())
    assert pool.instances() == [], "a failed start leaves nothing behind"


async def test_provisioner_never_starts_more_than_requested(tmp_path: Path) -> None:
    """Two ticks before any start has run must not double the instances."""
    from orchestrator.provisioned import Provisioner
    from orchestrator.registry import Registry

    driver = FakeDriver()
    pool = Pool(driver, Settings(), "srv", agent_factory=FakeAgent)  # type: ignore[arg-type]
    registry = Registry(tmp_path / "db.sqlite")
    latest = config()
    registry.create(latest)
    registry.publish("fn", lambda n: latest.updated(version=n))
    provisioner = Provisioner(pool, registry, lambda c: code)
    provisioner.put("fn", "1", 2)  # ticks once
    provisioner.tick()
    pool.tick()
    await settle()
    await asyncio.sleep(0.05)
    assert len(pool.instances("fn")) == 2
    assert {i.version for i in pool.instances("fn")} == {"1"}  # the version's, not $LATEST's
    assert provisioner.describe("fn", "1")["Status"] == "READY"  # type: ignore[index]


# -- the lease: whatever escapes an invocation, its instance is never left BUSY ---------------


@pytest.mark.parametrize(
    "escaped",
    [
        ValueError("a bug in the invoke path"),
        UnicodeEncodeError("latin-1", "€", 0, 1, "ordinal not in range"),
        asyncio.CancelledError(),
        KeyboardInterrupt(),
    ],
    ids=lambda e: type(e).__name__,
)
async def test_anything_escaping_a_lease_discards_its_instance(
    setup: tuple[Pool, FakeDriver, Clock], escaped: BaseException
) -> None:
    pool, driver, _ = setup
    instance, _ = await hold(pool, config())
    await fail(instance, escaped)
    assert state_of(instance) is not State.BUSY, "marked at once: nothing may route to it"
    await settle()
    assert state_of(instance) is State.STOPPED and instance.stop_reason is StopReason.ABANDONED
    assert driver.stopped == [instance.id] and pool.instances() == []
    fresh, cold = await hold(pool, config())
    assert cold and fresh is not instance


async def test_a_lease_body_discarding_explicitly_gets_the_drivers_reason() -> None:
    class OomDriver(FakeDriver):
        async def exit_reason(self, handle: InstanceHandle) -> str | None:
            return "oom"

    driver = OomDriver()
    pool = Pool(driver, Settings(), "srv", agent_factory=FakeAgent)  # type: ignore[arg-type]
    async with pool.lease(config(), code) as lease:
        assert await lease.discard(StopReason.CRASH) is StopReason.OOM
    assert (
        state_of(lease.instance) is State.STOPPED and lease.instance.stop_reason is StopReason.OOM
    )
    assert driver.stopped == [lease.instance.id]


async def test_a_normal_lease_end_releases_to_idle(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, _ = setup
    async with pool.lease(config(), code) as lease:
        assert lease.cold and state_of(lease.instance) is State.BUSY
    assert state_of(lease.instance) is State.IDLE and lease.instance.invocations == 1
    assert driver.stopped == []


# -- every declared time limit is enforced ------------------------------------------------------


async def test_a_hung_invocation_expires_and_fails_its_waiter(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, clock = setup
    busy, _ = await hold(pool, config())
    clock.now = busy.deadline - 0.1
    pool.tick()
    assert state_of(busy) is State.BUSY, "within its limit"
    clock.now = busy.deadline
    pool.tick()
    await settle()
    assert state_of(busy) is State.STOPPED and busy.stop_reason is StopReason.TIMEOUT
    assert isinstance(busy.agent, FakeAgent) and busy.agent.closed, "fails the waiting invocation"
    await release(busy)  # the invocation's lease then ends: nothing more happens
    assert driver.stopped == [busy.id]


class StuckInitAgent(FakeAgent):
    async def health(self) -> dict[str, Any]:
        return {"runtime": "initializing"}


async def test_an_init_that_never_ends_expires() -> None:
    from orchestrator.drivers.base import StartFailed

    driver, clock = FakeDriver(), Clock()
    settings = Settings(init_timeout_s=10, agent_grace_s=5)
    pool = Pool(driver, settings, "srv", clock=clock, agent_factory=StuckInitAgent)  # type: ignore[arg-type]
    instance = pool.new_provisioned(config())
    starting = asyncio.ensure_future(pool.start_provisioned(instance, config(), code))
    await settle()
    assert state_of(instance) is State.INITIALIZING and instance.deadline == clock.now + 15
    clock.now += 15
    with pytest.raises(StartFailed, match="failed its init"):
        await asyncio.wait_for(starting, 5)
    assert state_of(instance) is State.STOPPED and instance.stop_reason is StopReason.TIMEOUT
    assert pool.instances() == []


async def test_the_tick_expires_an_initializing_instance_nobody_watches() -> None:
    driver, clock = FakeDriver(), Clock()
    pool = Pool(driver, Settings(init_timeout_s=1, agent_grace_s=1), "srv", clock=clock)
    instance = pool.new_provisioned(config())
    instance.fire(Event.BEGIN_INIT)
    clock.now += 2
    pool.tick()
    await settle()
    assert state_of(instance) is State.STOPPED and instance.stop_reason is StopReason.TIMEOUT


class HangingStopDriver(FakeDriver):
    async def stop(self, handle: InstanceHandle) -> None:
        await asyncio.sleep(3600)


async def test_a_stop_the_engine_never_confirms_is_bounded() -> None:
    driver = HangingStopDriver()
    pool = Pool(driver, Settings(instance_stop_timeout_s=0.05), "srv", agent_factory=FakeAgent)  # type: ignore[arg-type]
    instance, _ = await hold(pool, config())
    await release(instance)
    pool.retire("fn", keep_revision=None, reason=StopReason.DELETED)
    assert state_of(instance) is State.STOPPING
    for _ in range(100):
        await asyncio.sleep(0.01)
        if state_of(instance) is State.STOPPED:
            break
    assert state_of(instance) is State.STOPPED and pool.instances() == []


async def test_a_provisioned_instance_retired_while_starting_is_stopped_not_left_draining(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, _ = setup
    instance = pool.new_provisioned(config())
    starting = asyncio.ensure_future(pool.start_provisioned(instance, config(), code))
    pool.retire("fn", keep_revision="other", reason=StopReason.UPDATE)
    assert state_of(instance) is State.DRAINING
    await starting
    await settle()
    assert state_of(instance) is State.STOPPED and instance.stop_reason is StopReason.UPDATE
    assert pool.instances() == [] and driver.stopped == [instance.id]


class HangingDriverGate(FakeDriver):
    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        await self.gate.wait()
        return await super().start(spec)


async def test_an_instance_failed_while_its_container_starts_removes_that_container() -> None:
    from orchestrator.drivers.base import StartFailed

    driver = HangingDriverGate()
    pool = Pool(driver, Settings(), "srv", agent_factory=FakeAgent)  # type: ignore[arg-type]
    waiter = asyncio.ensure_future(hold(pool, config()))
    await settle()
    [instance] = pool.instances()
    await pool.shutdown(drain_s=0)  # fails it: its teardown has no handle yet
    driver.gate.set()
    with pytest.raises(StartFailed):
        await waiter
    assert driver.stopped == [instance.id], "the late container is removed, not leaked"


async def test_instances_get_their_roles_credentials_once_api_access_is_granted(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, clock = setup
    plain = config(**{"lambkin:max-lifetime": str(30 * 24 * 3600)})
    first, _ = await hold(pool, plain)
    assert driver.started[-1].api_access is None  # no credentials file: no credentials
    await release(first)

    issuer = FunctionCredentials(b"k" * 32)
    pool.grant_api_access(issuer, "http://172.17.0.1:9000")
    cfg = config("r2", **{"lambkin:max-lifetime": str(30 * 24 * 3600)})
    instance, _ = await hold(pool, cfg)
    access = driver.started[-1].api_access
    assert access is not None
    env = access.environment()
    endpoints = {k: v for k, v in env.items() if k.startswith("AWS_ENDPOINT_URL_")}
    assert endpoints == dict.fromkeys(
        ["AWS_ENDPOINT_URL_LAMBDA", "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", "AWS_ENDPOINT_URL_LOGS"],
        "http://172.17.0.1:9000",
    )
    session, secret = issuer.verify(env["AWS_ACCESS_KEY_ID"], env["AWS_SESSION_TOKEN"])
    assert (session.role_arn, session.function_name, session.instance_id) == (
        "r",
        "fn",
        instance.id,
    )
    assert secret == env["AWS_SECRET_ACCESS_KEY"]
    # A month-long lifetime tag is cut so the instance retires before its credentials expire.
    assert instance.lifetime_s + cfg.timeout < MAX_LIFETIME_S
    await release(instance)
