"""The pool's lifecycle decisions, with a fake driver and fake agents that count their calls."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from orchestrator.drivers.base import (
    Driver,
    ExitListener,
    InstanceHandle,
    InstanceSpec,
    OwnedInstance,
)
from orchestrator.function_config import FunctionConfig
from orchestrator.instance import State
from orchestrator.pool import Pool
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


class FakeAgent:
    def __init__(self, host: str, port: int) -> None:
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


def code() -> Path:
    return Path("/nonexistent")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_cold_then_warm_reuses_the_instance(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, _ = setup
    first, cold = await pool.acquire(config(), code)
    assert cold and first.state is State.BUSY
    pool.release(first)
    second, cold = await pool.acquire(config(), code)
    assert not cold and second is first and len(driver.started) == 1


async def test_concurrent_demand_starts_separate_instances(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, _ = setup
    results = await asyncio.gather(*(pool.acquire(config(), code) for _ in range(5)))
    assert len({instance.id for instance, _ in results}) == 5 and len(driver.started) == 5


async def test_idle_timeout_stops_and_tag_overrides(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, clock = setup
    default, _ = await pool.acquire(config(), code)
    pool.release(default)
    quick, _ = await pool.acquire(config("r2", **{"lambkin:idle-timeout": "5"}), code)
    pool.release(quick)
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
    busy, _ = await pool.acquire(config(), code)
    clock.now += 3601
    pool.tick()
    assert busy.state is State.DRAINING and driver.stopped == []
    nxt, cold = await pool.acquire(config(), code)
    assert cold and nxt is not busy, "a draining instance takes no new work"
    pool.release(busy)
    await settle()
    assert driver.stopped == [busy.id] and busy.stop_reason == "lifetime"


async def test_max_invocations_retires(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, _ = setup
    cfg = config(**{"lambkin:max-invocations": "2"})
    instance, _ = await pool.acquire(cfg, code)
    pool.release(instance)
    again, _ = await pool.acquire(cfg, code)
    assert again is instance
    pool.release(again)
    await settle()
    assert driver.stopped == [instance.id]


async def test_update_retires_old_revision(setup: tuple[Pool, FakeDriver, Clock]) -> None:
    pool, driver, _ = setup
    (idle, _), (busy, _) = await asyncio.gather(
        pool.acquire(config("old"), code), pool.acquire(config("old"), code)
    )
    pool.release(idle)
    pool.retire("fn", keep_revision="new", reason="code update")
    await settle()
    assert driver.stopped == [idle.id] and busy.state is State.DRAINING
    fresh, cold = await pool.acquire(config("new"), code)
    assert cold and fresh.revision_id == "new"


async def test_exit_listener_stops_idle_and_fails_busy_fast(
    setup: tuple[Pool, FakeDriver, Clock],
) -> None:
    pool, driver, _ = setup
    await pool.start_housekeeping()
    (idle, _), (busy, _) = await asyncio.gather(
        pool.acquire(config(), code), pool.acquire(config(), code)
    )
    pool.release(idle)
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
    (a, _), (b, _) = await asyncio.gather(
        pool.acquire(config(), code), pool.acquire(config(), code)
    )
    pool.release(a)
    pool.release(b)
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
        await pool.acquire(config(), code)
    assert pool.instances() == [], "a failed start leaves nothing behind"


async def test_provisioner_never_starts_more_than_requested(tmp_path: Path) -> None:
    """Two ticks before any start has run must not double the instances."""
    from orchestrator.provisioned import Provisioner
    from orchestrator.registry import Registry

    driver = FakeDriver()
    pool = Pool(driver, Settings(), "srv", agent_factory=FakeAgent)  # type: ignore[arg-type]
    registry = Registry(tmp_path / "db.sqlite")
    registry.create(config())
    provisioner = Provisioner(pool, registry, lambda c: code)
    provisioner.put("fn", "$LATEST", 2)  # ticks once
    provisioner.tick()
    pool.tick()
    await settle()
    await asyncio.sleep(0.05)
    assert len(pool.instances("fn")) == 2
    assert provisioner.describe("fn")["Status"] == "READY"  # type: ignore[index]
