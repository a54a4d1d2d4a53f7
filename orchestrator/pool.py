"""The instance pool: routes each invocation to an instance, starts, retires and replaces them.

The pool carries out decisions (policy.py makes them) and drives each instance through its
state machine (instance.py). It knows drivers only through drivers/base.py. All of it runs on
the event loop; between two awaits nothing else touches an instance, which is what makes
"choose an idle instance, mark it busy" safe without locks.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from . import policy
from .agent_client import AgentClient, AgentUnreachable
from .drivers.base import Driver, InstanceSpec, StartFailed
from .function_config import FunctionConfig
from .instance import Instance, State
from .limits import instance_limits
from .runtimes import runtime_spec
from .settings import Settings

log = logging.getLogger(__name__)

CodePath = Callable[[], Path]


class Pool:
    def __init__(
        self,
        driver: Driver,
        settings: Settings,
        server_id: str,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        agent_factory: Callable[[str, int], AgentClient] = AgentClient,
    ) -> None:
        self._driver = driver
        self._settings = settings
        self._server_id = server_id
        self._clock = clock
        self._rng = rng or random.Random()
        self._agent_factory = agent_factory
        self._by_function: dict[str, list[Instance]] = {}
        self._by_id: dict[str, Instance] = {}
        self._start_slots = asyncio.Semaphore(settings.max_concurrent_starts)
        self._background: set[asyncio.Task[object]] = set()
        self._housekeeper: asyncio.Task[None] | None = None
        self.on_tick: list[Callable[[], None]] = []  # extra housekeeping (provisioning)
        self.on_started: list[Callable[[Instance], None]] = []  # e.g. metrics
        self.on_stopped: list[Callable[[Instance], None]] = []  # after removal (stop_reason set)

    @property
    def server_id(self) -> str:
        return self._server_id

    # -- routing -----------------------------------------------------------------------------

    async def acquire(self, config: FunctionConfig, code_path: CodePath) -> tuple[Instance, bool]:
        """A BUSY instance for this invocation, and whether it was started for it (cold).

        `code_path` is only called on a cold start: a warm invocation never touches the disk.
        """
        instance = policy.choose_idle(self._by_function.get(config.name, ()), config.revision_id)
        if instance is not None:
            instance.transition(State.BUSY)  # no await since choosing: nobody else took it
            return instance, False
        instance = self._new_instance(config, provisioned=False)
        await self._start(instance, config, code_path)
        if instance.state is State.STARTING:
            instance.transition(State.BUSY)
        return instance, True  # or DRAINING: retired while starting, serves this one and stops

    def release(self, instance: Instance) -> None:
        """The invocation ended and the instance is healthy."""
        instance.invocations += 1
        if instance.state is State.DRAINING:
            self._stop_in_background(instance, instance.stop_reason or "drained")
        elif policy.served_enough(instance):
            self._stop_in_background(instance, "max invocations")
        elif instance.state is State.BUSY:
            instance.transition(State.IDLE)
        # else: it died meanwhile (FAILED/STOPPING); the exit listener is stopping it

    async def discard(self, instance: Instance, reason: str) -> str | None:
        """The instance is broken: stop it. Returns the driver's view of why it died."""
        instance.invocations += 1
        exit_reason = None
        if instance.handle is not None:
            try:
                exit_reason = await self._driver.exit_reason(instance.handle)
            except Exception:  # diagnosis only; the instance goes regardless
                log.exception("could not read an exit reason", extra={"instance": instance.id})
        if instance.can(State.FAILED):
            instance.transition(State.FAILED)
        await self._stop(instance, exit_reason or reason)
        return exit_reason

    # -- starting and stopping ---------------------------------------------------------------

    def _new_instance(self, config: FunctionConfig, provisioned: bool) -> Instance:
        limits = instance_limits(config.tags, self._settings)
        jitter = 1.0 - self._settings.lifetime_jitter * self._rng.random()
        instance = Instance(
            config.name,
            config.revision_id,
            clock=self._clock,
            provisioned=provisioned,
            idle_timeout_s=limits.idle_timeout_s,
            lifetime_s=limits.max_lifetime_s * jitter,
            max_invocations=limits.max_invocations,
        )
        self._by_function.setdefault(config.name, []).append(instance)
        self._by_id[instance.id] = instance
        return instance

    async def _start(self, instance: Instance, config: FunctionConfig, code_path: CodePath) -> None:
        spec = InstanceSpec(
            instance_id=instance.id,
            server_id=self._server_id,
            config=config,
            runtime=runtime_spec(config.runtime),
            code_path=code_path(),
            region=self._settings.region,
            init_timeout_s=self._settings.init_timeout_s,
            initialization_type="provisioned-concurrency" if instance.provisioned else "on-demand",
        )
        timeout = self._settings.instance_start_timeout_s
        try:
            queued = self._clock()
            async with self._start_slots:
                started = self._clock()
                instance.handle = await asyncio.wait_for(self._driver.start(spec), timeout)
                placed = self._clock()
                instance.agent = self._agent_factory(instance.handle.host, instance.handle.port)
                await instance.agent.wait_ready(max(1.0, timeout - (self._clock() - started)))
            # Cold-start phases as the platform sees them (ms), reported with the invocation.
            instance.start_phases_ms = {
                "queue": (started - queued) * 1000,
                "start": (placed - started) * 1000,
                "ready": (self._clock() - placed) * 1000,
            }
            log.info(
                "instance started",
                extra={
                    "function": config.name,
                    "instance": instance.id,
                    "driver": self._driver.name,
                },
            )
            for hook in self.on_started:
                hook(instance)
        except BaseException as exc:
            if instance.can(State.FAILED):
                instance.transition(State.FAILED)
            await asyncio.shield(self._stop(instance, "start failed"))
            if isinstance(exc, asyncio.TimeoutError):
                raise StartFailed(f"instance did not start within {timeout:.0f} s") from None
            if isinstance(exc, AgentUnreachable):
                raise StartFailed(str(exc)) from None
            raise

    def new_provisioned(self, config: FunctionConfig) -> Instance:
        """Register a provisioned instance now (STARTING), so it counts before it is started."""
        return self._new_instance(config, provisioned=True)

    async def start_provisioned(
        self, instance: Instance, config: FunctionConfig, code_path: CodePath
    ) -> None:
        """Start a registered provisioned instance and run its init ahead of demand; it ends
        IDLE (or stopped)."""
        try:
            await self._start(instance, config, code_path)
        except StartFailed as exc:
            log.warning(
                "provisioned instance failed to start: %s", exc, extra={"function": config.name}
            )
            raise
        if instance.state is not State.STARTING:
            return  # retired while starting
        instance.transition(State.INITIALIZING)
        assert instance.agent is not None
        deadline = self._clock() + self._settings.init_timeout_s + 1
        state = "initializing"
        while (
            state == "initializing"
            and self._clock() < deadline
            and instance.state is State.INITIALIZING
        ):
            try:
                state = (await instance.agent.health()).get("runtime", "failed")
            except AgentUnreachable:
                state = "failed"
            if state == "initializing":
                await asyncio.sleep(0.02)
        if instance.state is not State.INITIALIZING:
            return  # retired or died meanwhile
        if state == "ready":
            instance.transition(State.IDLE)
            return
        instance.transition(State.FAILED)
        await self._stop(instance, "init failed")
        raise StartFailed(
            f"provisioned instance of {config.name} failed its init (runtime {state})"
        )

    def _begin_stop(self, instance: Instance, reason: str) -> bool:
        """Mark the instance STOPPING now, so nothing routes to it from here on.

        False when someone else is already stopping it.
        """
        if instance.state in (State.STOPPING, State.STOPPED):
            return False
        instance.stop_reason = instance.stop_reason or reason
        instance.transition(State.STOPPING)
        return True

    async def _stop(self, instance: Instance, reason: str) -> None:
        if self._begin_stop(instance, reason):
            await self._teardown(instance)

    async def _teardown(self, instance: Instance) -> None:
        try:
            if instance.agent is not None:
                await instance.agent.close()
            if instance.handle is not None:
                await asyncio.wait_for(
                    self._driver.stop(instance.handle), self._settings.instance_stop_timeout_s
                )
        except Exception:
            log.exception("stop failed", extra={"instance": instance.id})
        finally:
            instance.transition(State.STOPPED)
            siblings = self._by_function.get(instance.function_name, [])
            if instance in siblings:
                siblings.remove(instance)
            if not siblings:
                self._by_function.pop(instance.function_name, None)
            self._by_id.pop(instance.id, None)
            log.info(
                "instance stopped", extra={"instance": instance.id, "reason": instance.stop_reason}
            )
            for hook in self.on_stopped:
                hook(instance)

    def _stop_in_background(self, instance: Instance, reason: str) -> None:
        # The state changes before this returns: an idle instance being retired must not be
        # handed an invocation while its teardown waits for its turn on the loop.
        if self._begin_stop(instance, reason):
            self.spawn(self._teardown(instance))

    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """Run a coroutine in the background; shutdown waits for it."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def retire(self, function_name: str, keep_revision: str | None, reason: str) -> None:
        """Stop the function's instances of other revisions: idle ones now, busy ones when done."""
        for instance in policy.to_retire(self._by_function.get(function_name, []), keep_revision):
            self._retire(instance, reason)

    def _retire(self, instance: Instance, reason: str) -> None:
        instance.stop_reason = reason
        if instance.state in (State.BUSY, State.STARTING):
            instance.transition(State.DRAINING)  # finishes its invocation first
        elif instance.state in (State.IDLE, State.INITIALIZING):
            self._stop_in_background(instance, reason)

    def instance_exited(self, instance_id: str, reason: str | None) -> None:
        """The driver saw an instance die on its own (crash, docker kill, OOM)."""
        instance = self._by_id.get(instance_id)
        if instance is None or instance.state in (State.STOPPING, State.STOPPED):
            return  # ours to stop, or already gone
        log.warning("instance died", extra={"instance": instance_id, "reason": reason or "crash"})
        if instance.state in (State.BUSY, State.DRAINING) and instance.agent is not None:
            # Fail the in-flight request at once rather than waiting on a dead connection;
            # the invoker then discards the instance and answers Runtime.ExitError.
            self.spawn(instance.agent.close())
            return
        if instance.can(State.FAILED):
            instance.transition(State.FAILED)
        self.spawn(self._stop(instance, reason or "crash"))

    # -- housekeeping ------------------------------------------------------------------------

    async def start_housekeeping(self) -> None:
        await self._driver.watch(self.instance_exited)
        self._housekeeper = asyncio.get_running_loop().create_task(self._housekeep())

    async def _housekeep(self) -> None:
        while True:
            await asyncio.sleep(self._settings.maintenance_interval_s)
            try:
                self.tick()
            except Exception:
                log.exception("housekeeping failed; retrying next tick")

    def tick(self) -> None:
        """Retire what policy says is expired; then let other housekeepers run."""
        now = self._clock()
        for instance, reason in policy.housekeeping(self.instances(), now):
            self._retire(instance, reason)
        for extra in self.on_tick:
            extra()

    # -- whole-pool operations ---------------------------------------------------------------

    async def reap_previous(self) -> int:
        """Remove instances a previous run of this server left behind (crash, kill -9)."""
        return await self._driver.reap_owned()

    async def shutdown(self, drain_s: float = 10.0) -> None:
        """Let in-flight invocations finish (up to drain_s), then stop every instance."""
        if self._housekeeper is not None:
            self._housekeeper.cancel()
        for instance in self.instances():
            self._retire(instance, "shutdown")
        deadline = self._clock() + drain_s
        while self._busy_count() and self._clock() < deadline:
            await asyncio.sleep(0.05)
        remaining = self.instances()
        for instance in remaining:
            if instance.state in (State.BUSY, State.DRAINING, State.STARTING):
                instance.transition(State.FAILED)  # still running after the drain period
        await asyncio.gather(
            *(self._stop(i, "shutdown") for i in remaining), return_exceptions=True
        )
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._driver.reap_owned()

    def _busy_count(self) -> int:
        return sum(
            1 for i in self.instances() if i.state in (State.BUSY, State.DRAINING, State.STARTING)
        )

    def instances(self, function_name: str | None = None) -> list[Instance]:
        if function_name is not None:
            return list(self._by_function.get(function_name, []))
        return [i for instances in self._by_function.values() for i in instances]
