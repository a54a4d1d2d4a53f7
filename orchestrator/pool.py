"""The instance pool: routes each invocation to an instance, starting and stopping instances.

The pool carries out decisions (policy.py makes them) and drives each instance through its state
machine (instance.py). It knows drivers only through drivers/base.py.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

CodePath = Callable[[], Path]

from . import policy
from .agent_client import AgentClient, AgentUnreachable
from .drivers.base import Driver, InstanceSpec, StartFailed
from .function_config import FunctionConfig
from .instance import Instance, State
from .runtimes import runtime_spec
from .settings import Settings

log = logging.getLogger(__name__)


class Pool:
    def __init__(
        self,
        driver: Driver,
        settings: Settings,
        server_id: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._driver = driver
        self._settings = settings
        self._server_id = server_id
        self._clock = clock
        self._by_function: dict[str, list[Instance]] = {}
        self._start_slots = asyncio.Semaphore(settings.max_concurrent_starts)
        self._background: set[asyncio.Task[None]] = set()

    # -- routing -----------------------------------------------------------------------------

    async def acquire(self, config: FunctionConfig, code_path: CodePath) -> tuple[Instance, bool]:
        """A BUSY instance for this invocation, and whether it was started for it (cold).

        `code_path` is only called on a cold start: a warm invocation never touches the disk.
        """
        instances = self._by_function.setdefault(config.name, [])
        instance = policy.choose_idle(instances, config.revision_id)
        if instance is not None:
            instance.transition(State.BUSY)  # no await since choosing: nobody else took it
            return instance, False
        instance = Instance(config.name, config.revision_id, clock=self._clock)
        instances.append(instance)
        await self._start(instance, config, code_path)
        if instance.state is State.STARTING:
            instance.transition(State.BUSY)
        return instance, True  # or DRAINING: retired while starting, serves this one and stops

    def release(self, instance: Instance) -> None:
        """The invocation ended and the instance is healthy."""
        instance.invocations += 1
        if instance.state is State.DRAINING:
            self._stop_in_background(instance, instance.stop_reason or "drained")
        else:
            instance.transition(State.IDLE)

    async def discard(self, instance: Instance, reason: str) -> str | None:
        """The instance is broken: stop it. Returns the driver's view of why it died."""
        instance.invocations += 1
        exit_reason = None
        if instance.handle is not None:
            try:
                exit_reason = await self._driver.exit_reason(instance.handle)
            except Exception:  # diagnosis only; the instance goes regardless
                log.exception("instance %s: could not read its exit reason", instance.id)
        if instance.can(State.FAILED):
            instance.transition(State.FAILED)
        await self._stop(instance, exit_reason or reason)
        return exit_reason

    # -- starting and stopping ---------------------------------------------------------------

    async def _start(self, instance: Instance, config: FunctionConfig, code_path: CodePath) -> None:
        spec = InstanceSpec(
            instance_id=instance.id,
            server_id=self._server_id,
            config=config,
            runtime=runtime_spec(config.runtime),
            code_path=code_path(),
            region=self._settings.region,
            init_timeout_s=self._settings.init_timeout_s,
        )
        timeout = self._settings.instance_start_timeout_s
        try:
            async with self._start_slots:
                started = self._clock()
                instance.handle = await asyncio.wait_for(self._driver.start(spec), timeout)
                instance.agent = AgentClient(instance.handle.host, instance.handle.port)
                await instance.agent.wait_ready(max(1.0, timeout - (self._clock() - started)))
            log.info(
                "instance started",
                extra={"function": config.name, "instance": instance.id, "driver": self._driver.name},
            )
        except BaseException as exc:
            instance.transition(State.FAILED)
            await asyncio.shield(self._stop(instance, "start failed"))
            if isinstance(exc, asyncio.TimeoutError):
                raise StartFailed(f"instance did not start within {timeout:.0f} s") from None
            if isinstance(exc, AgentUnreachable):
                raise StartFailed(str(exc)) from None
            raise

    async def _stop(self, instance: Instance, reason: str) -> None:
        if instance.state in (State.STOPPING, State.STOPPED):
            return  # someone else is stopping it
        instance.stop_reason = instance.stop_reason or reason
        if instance.state is not State.STOPPING:
            instance.transition(State.STOPPING)
        try:
            if instance.agent is not None:
                await instance.agent.close()
            if instance.handle is not None:
                await self._driver.stop(instance.handle)
        except Exception:
            log.exception("instance %s: stop failed", instance.id, extra={"instance": instance.id})
        finally:
            instance.transition(State.STOPPED)
            siblings = self._by_function.get(instance.function_name, [])
            if instance in siblings:
                siblings.remove(instance)
            log.info("instance stopped", extra={"instance": instance.id, "reason": instance.stop_reason})

    def _stop_in_background(self, instance: Instance, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self._stop(instance, reason))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def retire(self, function_name: str, keep_revision: str | None, reason: str) -> None:
        """Stop the function's instances of other revisions: idle ones now, busy ones when done."""
        for instance in policy.to_retire(self._by_function.get(function_name, []), keep_revision):
            instance.stop_reason = reason
            if instance.state in (State.BUSY, State.STARTING):
                instance.transition(State.DRAINING)  # finishes its invocation first
            elif instance.state in (State.IDLE, State.INITIALIZING):
                self._stop_in_background(instance, reason)

    # -- whole-pool operations ---------------------------------------------------------------

    async def reap_previous(self) -> int:
        """Remove instances a previous run of this server left behind (crash, kill -9)."""
        return await self._driver.reap_owned()

    async def shutdown(self, drain_s: float = 10.0) -> None:
        """Let in-flight invocations finish (up to drain_s), then stop every instance."""
        for name in list(self._by_function):
            self.retire(name, None, "shutdown")
        deadline = self._clock() + drain_s
        while self._busy_count() and self._clock() < deadline:
            await asyncio.sleep(0.05)
        remaining = self.instances()
        for instance in remaining:
            if instance.state in (State.BUSY, State.DRAINING, State.STARTING):
                instance.transition(State.FAILED)  # still running after the drain period
        await asyncio.gather(*(self._stop(i, "shutdown") for i in remaining), return_exceptions=True)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._driver.reap_owned()

    def _busy_count(self) -> int:
        return sum(
            1
            for instances in self._by_function.values()
            for i in instances
            if i.state in (State.BUSY, State.DRAINING, State.STARTING)
        )

    @property
    def server_id(self) -> str:
        return self._server_id

    def instances(self, function_name: str | None = None) -> list[Instance]:
        if function_name is not None:
            return list(self._by_function.get(function_name, []))
        return [i for instances in self._by_function.values() for i in instances]
