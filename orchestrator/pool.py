"""The instance pool: routes each invocation to an instance, starts, retires and replaces them.

The pool carries out decisions (policy.py makes them) and drives each instance through its
state machine (instance.py) by firing events. It knows drivers only through drivers/base.py.
All of it runs on the event loop; between two awaits nothing else touches an instance, which is
what makes "choose an idle instance, claim it" safe without locks.

An invocation holds its instance through a lease (`async with pool.lease(...)`): released when
the body ends normally, discarded when anything at all escapes it (an error, a cancellation), so
no code path can leave an instance BUSY.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from . import policy
from .agent_client import AgentClient, AgentUnreachable
from .debugging import DebugSetup, debug_setup
from .drivers.base import (
    ApiAccess,
    Driver,
    FunctionFiles,
    InstanceHandle,
    InstanceSpec,
    StartFailed,
    VacancyUnusable,
)
from .function_config import FunctionConfig
from .function_credentials import MAX_LIFETIME_S as CREDENTIALS_MAX_LIFETIME_S
from .function_credentials import FunctionCredentials
from .instance import Event, Instance, State, StopReason, Timeouts, new_instance_id
from .limits import instance_limits
from .runtimes import runtime_spec
from .settings import Settings
from .vacancies import Vacancies, Vacancy
from .vacancy_policy import VacancyLimits
from .validation import TIMEOUT_RANGE

log = logging.getLogger(__name__)

# A function's files on this host, asked for only on a cold start.
CodePath = Callable[[], FunctionFiles]


class Lease:
    """One invocation's hold on one instance; see `Pool.lease`."""

    def __init__(self, pool: Pool, instance: Instance, cold: bool) -> None:
        self.instance = instance
        self.cold = cold  # started for this invocation
        self._pool = pool
        self.ended = False

    @property
    def agent(self) -> AgentClient:
        assert self.instance.agent is not None  # a leased instance has started
        return self.instance.agent

    async def discard(self, reason: StopReason) -> StopReason:
        """The instance broke mid-invocation: stop it now. Returns why it broke as the driver
        saw it (OOM rather than CRASH when the engine says so)."""
        self.ended = True
        return await self._pool.discard(self.instance, reason)


class Pool:
    def __init__(
        self,
        driver: Driver,
        settings: Settings,
        server_id: str,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        agent_factory: Callable[..., AgentClient] = AgentClient,
    ) -> None:
        self._driver = driver
        self._settings = settings
        self._server_id = server_id
        self._clock = clock
        self._rng = rng or random.Random()
        self._agent_factory = agent_factory
        self._by_function: dict[str, list[Instance]] = {}
        self._by_id: dict[str, Instance] = {}
        self._debug_turns: dict[str, asyncio.Lock] = {}  # function name -> its debugger's turn
        self._start_slots = asyncio.Semaphore(settings.max_concurrent_starts)
        self._api_access: tuple[FunctionCredentials, str] | None = None
        self._background: set[asyncio.Task[object]] = set()
        self._housekeeper: asyncio.Task[None] | None = None
        self.on_tick: list[Callable[[], None]] = []  # extra housekeeping (provisioning)
        self.on_started: list[Callable[[Instance], None]] = []  # e.g. metrics
        self.on_stopped: list[Callable[[Instance], None]] = []  # after removal (stop_reason set)
        self.vacancies = Vacancies(
            driver,
            VacancyLimits(
                memory_budget_mb=settings.vacancy_memory_mb,
                per_shape=settings.vacancies_per_shape,
                window_s=settings.vacancy_window_s,
            ),
            server_id,
            start_timeout_s=settings.instance_start_timeout_s,
            stop_timeout_s=settings.instance_stop_timeout_s,
            clock=clock,
            agent_factory=agent_factory,
        )

    @property
    def server_id(self) -> str:
        return self._server_id

    # -- routing -----------------------------------------------------------------------------

    @asynccontextmanager
    async def lease(self, config: FunctionConfig, code_path: CodePath) -> AsyncIterator[Lease]:
        """A BUSY instance for one invocation, for as long as the `async with` body runs.

        `code_path` is only called on a cold start: a warm invocation never touches the disk.
        Raises StartFailed (nothing leased) when no instance could be started.
        """
        async with self._debug_turn(config):
            instance, cold = await self._acquire(config, code_path)
            lease = Lease(self, instance, cold)
            async with self._leased(instance, lease):
                yield lease

    @asynccontextmanager
    async def _debug_turn(self, config: FunctionConfig) -> AsyncIterator[None]:
        """A debugged function's invocations take turns: its one instance holds the debugger's
        port, so a second at once would wait for a second instance that cannot start."""
        if debug_setup(config.tags, config.runtime) is None:
            yield
            return
        # By name: every version and alias of it would listen on the same port.
        turn = self._debug_turns.setdefault(config.name, asyncio.Lock())
        async with turn:
            yield

    @asynccontextmanager
    async def _leased(self, instance: Instance, lease: Lease) -> AsyncIterator[None]:
        try:
            yield
        except BaseException:
            if not lease.ended:
                # Whatever escaped, the instance's state is unknown: it must not serve again.
                lease.ended = True
                self._discard_in_background(instance, StopReason.ABANDONED)
            raise
        if not lease.ended:
            lease.ended = True
            self._release(instance)

    async def _acquire(self, config: FunctionConfig, code_path: CodePath) -> tuple[Instance, bool]:
        idle = self._by_function.get(config.pool_key, ())
        instance = policy.choose_idle(idle, config.revision_id)
        if instance is not None:
            instance.fire(Event.CLAIM)  # no await since choosing: nobody else took it
            return instance, False
        # A vacancy was started without the debugger's port and settings.
        debugged = debug_setup(config.tags, config.runtime) is not None
        vacancy = None if debugged else self.vacancies.take(config)
        instance = None
        if vacancy is not None:
            instance = await self._specialise(vacancy, config, code_path)
        if instance is None:
            instance = self._new_instance(config, provisioned=False)
            await self._start(instance, config, code_path)
        if instance.state is State.STARTING:
            instance.fire(Event.CLAIM)
        elif instance.state is not State.DRAINING:  # DRAINING: retired meanwhile, serves this one
            raise StartFailed(f"instance died while starting ({instance.stop_reason})")
        return instance, True

    def _release(self, instance: Instance) -> None:
        """The invocation ended and the instance is healthy."""
        instance.invocations += 1
        if instance.state is State.DRAINING:
            self._stop_in_background(instance, instance.stop_reason or StopReason.UPDATE)
        elif instance.state is State.BUSY and policy.served_enough(instance):
            self._stop_in_background(instance, StopReason.MAX_INVOCATIONS)
        elif instance.state is State.BUSY:
            instance.fire(Event.FINISH)
        # else: it died or expired meanwhile (FAILED/STOPPING); whoever saw that is stopping it

    async def discard(self, instance: Instance, reason: StopReason) -> StopReason:
        """The instance is broken: stop it. Returns the reason, refined by the driver's view."""
        instance.invocations += 1
        self._mark_failed(instance)
        if (
            reason is StopReason.CRASH
            and instance.handle is not None
            and instance.state is not State.STOPPED  # removed already: nothing left to ask
        ):
            try:
                if await self._driver.exit_reason(instance.handle) == "oom":
                    reason = StopReason.OOM
            except Exception:  # diagnosis only; the instance goes regardless
                log.exception("could not read an exit reason", extra={"instance": instance.id})
        await self._stop(instance, reason)
        return reason

    def _discard_in_background(self, instance: Instance, reason: StopReason) -> None:
        self._mark_failed(instance)  # now, so nothing routes to it while the stop waits its turn
        self.spawn(self.discard(instance, reason))

    @staticmethod
    def _mark_failed(instance: Instance) -> None:
        if instance.accepts(Event.DIED):
            instance.fire(Event.DIED)

    # -- starting and stopping ---------------------------------------------------------------

    @staticmethod
    def _debug_for(config: FunctionConfig, provisioned: bool) -> DebugSetup | None:
        """Provisioned instances are many, and the debugger's port is one: they run undebugged."""
        return None if provisioned else debug_setup(config.tags, config.runtime)

    def _timeouts(self, config: FunctionConfig, idle_timeout_s: float, debugged: bool) -> Timeouts:
        s = self._settings
        if debugged:
            # A debugger may hold an init or an invocation for as long as someone steps through
            # it; the agent stops counting the timeout while it is attached.
            return Timeouts(
                starting=s.instance_start_timeout_s,
                initializing=s.debug_session_s,
                idle=idle_timeout_s,
                busy=s.debug_session_s,
                stopping=s.instance_stop_timeout_s,
            )
        return Timeouts(
            starting=s.instance_start_timeout_s,
            initializing=s.init_timeout_s + s.agent_grace_s,
            idle=idle_timeout_s,
            # A little past the invoker's own wait, so its clearer error normally comes first.
            busy=config.timeout + s.init_timeout_s + 2 * s.agent_grace_s,
            stopping=s.instance_stop_timeout_s,
        )

    def _new_instance(
        self, config: FunctionConfig, provisioned: bool, instance_id: str | None = None
    ) -> Instance:
        limits = instance_limits(config.tags, self._settings)
        jitter = 1.0 - self._settings.lifetime_jitter * self._rng.random()
        lifetime_s = limits.max_lifetime_s * jitter
        if self._api_access is not None:
            # Retired before its credentials expire, however long its last invocation runs.
            lifetime_s = min(lifetime_s, CREDENTIALS_MAX_LIFETIME_S - TIMEOUT_RANGE[1] - 60)
        instance = Instance(
            config.name,
            config.revision_id,
            id=instance_id or new_instance_id(),
            clock=self._clock,
            provisioned=provisioned,
            timeouts=self._timeouts(
                config, limits.idle_timeout_s, self._debug_for(config, provisioned) is not None
            ),
            lifetime_s=lifetime_s,
            max_invocations=limits.max_invocations,
            version=config.version,
        )
        self._by_function.setdefault(config.pool_key, []).append(instance)
        self._by_id[instance.id] = instance
        return instance

    def _spec(
        self, instance: Instance, config: FunctionConfig, code_path: CodePath
    ) -> InstanceSpec:
        files = None if config.is_image else code_path()
        return InstanceSpec(
            instance_id=instance.id,
            server_id=self._server_id,
            config=config,
            runtime=None if config.is_image else runtime_spec(config.runtime),
            code_path=None if files is None else files.code,
            layers_path=None if files is None else files.layers,
            region=self._settings.region,
            init_timeout_s=self._settings.init_timeout_s,
            initialization_type="provisioned-concurrency" if instance.provisioned else "on-demand",
            api_access=self._access_for(instance, config),
            debug=self._debug_for(config, instance.provisioned),
        )

    def grant_api_access(self, credentials: FunctionCredentials, endpoint: str) -> None:
        """From now on each new instance gets its role's temporary credentials and the API's
        endpoint as its instance reaches it (a server with a credentials file does this)."""
        self._api_access = (credentials, endpoint)

    def _access_for(self, instance: Instance, config: FunctionConfig) -> ApiAccess | None:
        if self._api_access is None:
            return None
        issuer, endpoint = self._api_access
        lifetime_s = instance.lifetime_s + config.timeout + 60  # it may finish its last call
        return ApiAccess(issuer.issue(config.role, config.name, instance.id, lifetime_s), endpoint)

    async def _specialise(
        self, vacancy: Vacancy, config: FunctionConfig, code_path: CodePath
    ) -> Instance | None:
        """The cold start's instance, made of a vacancy (vacancies.py); None when the vacancy
        could not take the function (it is removed, and the caller starts one the usual way)."""
        assert vacancy.handle is not None and vacancy.agent is not None  # ready vacancies only
        instance = self._new_instance(config, provisioned=False, instance_id=vacancy.instance_id)
        instance.handle, instance.agent = vacancy.handle, vacancy.agent
        began = self._clock()
        try:
            spec = self._spec(instance, config, code_path)
            settings = await asyncio.wait_for(
                self._driver.specialise(vacancy.handle, spec), instance.timeouts.starting
            )
            placed = self._clock()
            await instance.agent.specialise(settings)
        except (VacancyUnusable, AgentUnreachable, TimeoutError, OSError) as exc:
            log.info(
                "vacant instance unusable, starting one: %s", exc, extra={"instance": instance.id}
            )
            self._forget(instance)
            self.vacancies.discard(vacancy)
            return None
        except BaseException:
            self._mark_failed(instance)
            await asyncio.shield(self._stop(instance, StopReason.START_FAILED))
            raise
        instance.start_phases_ms = {
            "specialise": (placed - began) * 1000,
            "ready": (self._clock() - placed) * 1000,
        }
        log.info(
            "instance started from a vacancy",
            extra={"function": config.name, "instance": instance.id, "driver": self._driver.name},
        )
        self.spawn(self._driver.adopted(vacancy.handle, spec))
        for hook in self.on_started:
            hook(instance)
        return instance

    def _forget(self, instance: Instance) -> None:
        """Unregister an instance that never served (its container is someone else's to stop)."""
        siblings = self._by_function.get(instance.pool_key, [])
        if instance in siblings:
            siblings.remove(instance)
        if not siblings:
            self._by_function.pop(instance.pool_key, None)
        self._by_id.pop(instance.id, None)

    async def _start(self, instance: Instance, config: FunctionConfig, code_path: CodePath) -> None:
        spec = self._spec(instance, config, code_path)
        timeout = instance.timeouts.starting
        try:
            queued = self._clock()  # the queue phase counts a first start's publish too
            # Before the start budget: the driver's once-per-image work (a swarm publishes the
            # image on its first instance) would otherwise be what times the first start out.
            await self._driver.prepare(spec)
            async with self._start_slots:
                started = self._clock()  # the limit runs from here: a queued start is not late
                handle = await asyncio.wait_for(self._driver.start(spec), timeout)
                if not instance.live:
                    # Expired or retired and failed while the driver worked: it was torn down
                    # without a handle, so this container is still ours to remove.
                    await self._stop_handle(instance, handle)
                    raise StartFailed(f"instance stopped while starting ({instance.stop_reason})")
                instance.handle = handle
                placed = self._clock()
                instance.agent = self._agent_factory(
                    handle.host, handle.port, handle.token, dial=handle.dial
                )
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
            timed_out = isinstance(exc, asyncio.TimeoutError)
            if timed_out and instance.accepts(Event.EXPIRE):
                instance.fire(Event.EXPIRE)
            self._mark_failed(instance)
            reason = StopReason.TIMEOUT if timed_out else StopReason.START_FAILED
            await asyncio.shield(self._stop(instance, reason))
            if timed_out:
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
        if instance.state is State.DRAINING:  # retired while starting: no invocation to serve
            self._stop_in_background(instance, instance.stop_reason or StopReason.UPDATE)
            return
        if instance.state is not State.STARTING:
            return  # died meanwhile; whoever saw it is stopping it
        await self._initialize(instance, config)

    async def _initialize(self, instance: Instance, config: FunctionConfig) -> None:
        """Run a started provisioned instance's init; it ends IDLE, or stopped and raising."""
        instance.fire(Event.BEGIN_INIT)
        runtime = await self._await_init(instance)
        if instance.state is not State.INITIALIZING:
            return  # retired, expired or died meanwhile
        if runtime == "ready":
            instance.fire(Event.READY)
            return
        timed_out = runtime == "initializing"
        instance.fire(Event.EXPIRE if timed_out else Event.DIED)
        await self._stop(instance, StopReason.TIMEOUT if timed_out else StopReason.INIT_FAILED)
        raise StartFailed(
            f"provisioned instance of {config.name} failed its init (runtime {runtime})"
        )

    async def _await_init(self, instance: Instance) -> str:
        """Poll the agent until its runtime is past init, or the INITIALIZING limit runs out;
        returns the runtime's last state (`initializing` when it ran out)."""
        assert instance.agent is not None
        runtime = "initializing"
        while instance.state is State.INITIALIZING and not instance.expired(self._clock()):
            try:
                runtime = str((await instance.agent.health()).get("runtime", "failed"))
            except AgentUnreachable:
                runtime = "failed"
            if runtime != "initializing":
                break
            await asyncio.sleep(0.02)
        return runtime

    def _begin_stop(self, instance: Instance, reason: StopReason) -> bool:
        """Mark the instance STOPPING now, so nothing routes to it from here on.

        False when someone else is already stopping it.
        """
        if instance.state in (State.STOPPING, State.STOPPED):
            return False
        instance.stop_reason = instance.stop_reason or reason
        instance.fire(Event.STOP)
        return True

    async def _stop(self, instance: Instance, reason: StopReason) -> None:
        if self._begin_stop(instance, reason):
            await self._teardown(instance)

    async def _stop_handle(self, instance: Instance, handle: InstanceHandle) -> None:
        """Have the driver remove the container; waits at most the STOPPING limit."""
        try:
            await asyncio.wait_for(self._driver.stop(handle), instance.timeouts.stopping)
        except Exception:
            log.exception("stop failed", extra={"instance": instance.id})

    async def _teardown(self, instance: Instance) -> None:
        """Take a STOPPING instance down and forget it."""
        try:
            if instance.agent is not None:
                await instance.agent.close()
            if instance.handle is not None:
                await self._stop_handle(instance, instance.handle)
        finally:
            instance.fire(Event.STOPPED)
            self._forget(instance)
            log.info(
                "instance stopped", extra={"instance": instance.id, "reason": instance.stop_reason}
            )
            for hook in self.on_stopped:
                hook(instance)

    def _stop_in_background(self, instance: Instance, reason: StopReason) -> None:
        # The state changes before this returns: an idle instance being retired must not be
        # handed an invocation while its teardown waits for its turn on the loop.
        if self._begin_stop(instance, reason):
            self.spawn(self._teardown(instance))

    def spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        """Run a coroutine in the background; shutdown waits for it."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def retire(self, pool_key: str, keep_revision: str | None, reason: StopReason) -> None:
        """Stop the instances of `pool_key` (a function's $LATEST, or `name:version`) of other
        revisions than `keep_revision` (None: all): idle ones now, busy ones when done."""
        for instance in policy.to_retire(self._by_function.get(pool_key, []), keep_revision):
            self._apply(instance, Event.RETIRE, reason)

    def retire_function(self, function_name: str, reason: StopReason) -> None:
        """Stop every instance of the function, of every version."""
        for key in self._keys_of(function_name):
            self.retire(key, None, reason)

    def _keys_of(self, function_name: str) -> list[str]:
        prefix = function_name + ":"
        return [k for k in self._by_function if k == function_name or k.startswith(prefix)]

    def _apply(self, instance: Instance, event: Event, reason: StopReason) -> None:
        """Fire a housekeeping event (RETIRE, EXPIRE) and carry out what the new state needs."""
        if not instance.accepts(event):
            return  # already on its way out: stopping, stopped or failed
        instance.stop_reason = instance.stop_reason or reason
        state = instance.fire(event)
        if state is State.STOPPING:
            self.spawn(self._teardown(instance))
        elif state is State.FAILED:
            # Hung: tearing it down also closes the agent connection, which fails the invocation
            # (if any) that waits on it; that invocation's lease then finds it stopping.
            self._stop_in_background(instance, reason)

    def instance_exited(self, instance_id: str, reason: str | None) -> None:
        """The driver saw an instance die on its own (crash, docker kill, OOM)."""
        instance = self._by_id.get(instance_id)
        if instance is None:
            self.vacancies.exited(instance_id)
            return
        if instance.state in (State.STOPPING, State.STOPPED):
            return  # ours to stop, or already gone
        log.warning("instance died", extra={"instance": instance_id, "reason": reason or "crash"})
        if instance.state in (State.BUSY, State.DRAINING) and instance.agent is not None:
            # Fail the in-flight request at once rather than waiting on a dead connection;
            # its lease then discards the instance and answers Runtime.ExitError.
            self.spawn(instance.agent.close())
            return
        self._mark_failed(instance)
        self.spawn(self._stop(instance, StopReason.OOM if reason == "oom" else StopReason.CRASH))

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
        """Carry out what policy decides (lifetimes, idle and hung instances); then let other
        housekeepers run."""
        for instance, event, reason in policy.housekeeping(self.instances(), self._clock()):
            self._apply(instance, event, reason)
        starting = sum(1 for i in self.instances() if i.state is State.STARTING)
        self.vacancies.tick(starting)
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
            self._apply(instance, Event.RETIRE, StopReason.SHUTDOWN)
        deadline = self._clock() + drain_s
        while self._busy_count() and self._clock() < deadline:
            await asyncio.sleep(0.05)
        remaining = self.instances()
        for instance in remaining:
            self._mark_failed(instance)  # still running after the drain period
        await asyncio.gather(
            *(self._stop(i, StopReason.SHUTDOWN) for i in remaining), return_exceptions=True
        )
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self.vacancies.close()
        await self._driver.reap_owned()

    def _busy_count(self) -> int:
        return sum(
            1 for i in self.instances() if i.state in (State.BUSY, State.DRAINING, State.STARTING)
        )

    def instances_of(self, config: FunctionConfig) -> list[Instance]:
        """The instances of that function's version ($LATEST or a published one) alone."""
        return list(self._by_function.get(config.pool_key, []))

    def node_of(self, instance: Instance) -> str:
        """The machine `instance` runs on, as its driver says ("" for a driver of one)."""
        return self._driver.node_of(instance.handle) if instance.handle is not None else ""

    def instances(self, function_name: str | None = None) -> list[Instance]:
        if function_name is not None:  # of every version
            return [i for key in self._keys_of(function_name) for i in self._by_function[key]]
        return [i for instances in self._by_function.values() for i in instances]
