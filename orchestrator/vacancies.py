"""Vacant instances: started with no function, each handed whole to one cold start.

A cold start through the engine waits for `docker run` (about 300 ms here) before the runtime
even begins its init. A vacancy has paid that already: its container runs, its agent listens
and waits, and nothing of any function is in it. A cold start of its shape (vacancy_policy.py)
takes it, the driver puts the function's code in its task folder and names its log file, and
the agent gets the runtime's command and environment over the control channel (POST
/specialise, with the instance's token) and begins the init. From then on it is an ordinary
instance of that function, with the vacancy's instance id: it never goes back, and never
serves another function.

The pool owns this and calls it on the event loop: `take` on a cold start, `tick` from its
housekeeping (start what the policy wants, one at a time and only while no cold start is
starting, so that refilling never competes with a user's start for the engine; stop the
surplus), `exited` when the driver sees one die, `close` at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from .agent_client import AgentClient, AgentUnreachable
from .drivers.base import Driver, InstanceHandle, StartFailed, VacantSpec
from .function_config import FunctionConfig
from .instance import new_instance_id
from .vacancy_policy import Shape, VacancyLimits, recent, vacancy_targets

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Vacancy:
    spec: VacantSpec
    started_at: float
    handle: InstanceHandle | None = None
    agent: AgentClient | None = None

    @property
    def instance_id(self) -> str:
        return self.spec.instance_id


@dataclass
class _Shelf:
    """One shape's vacancies and the cold starts that asked for them."""

    ready: list[Vacancy] = field(default_factory=list)
    starting: int = 0
    cold_starts: deque[float] = field(default_factory=deque)


def shape_of(config: FunctionConfig) -> Shape | None:
    """The shape of vacancy a function can take; None for an image function (its image is its
    own, so nothing could be started for it ahead of its first use)."""
    if config.is_image:
        return None
    return Shape(config.runtime, config.memory_size, config.ephemeral_storage)


class Vacancies:
    def __init__(
        self,
        driver: Driver,
        limits: VacancyLimits,
        server_id: str,
        start_timeout_s: float,
        stop_timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
        agent_factory: Callable[..., AgentClient] = AgentClient,
    ) -> None:
        self._driver = driver
        self._limits = limits
        self._server_id = server_id
        self._start_timeout_s = start_timeout_s
        self._stop_timeout_s = stop_timeout_s
        self._clock = clock
        self._agent_factory = agent_factory
        self._shelves: dict[Shape, _Shelf] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._closed = False
        self.enabled = driver.supports_vacancies and limits.memory_budget_mb > 0
        self.handed_out = 0  # vacancies taken by cold starts, since start-up

    def take(self, config: FunctionConfig) -> Vacancy | None:
        """A ready vacancy for this function's cold start, if one is waiting; the cold start
        counts as demand for its shape either way."""
        shape = shape_of(config)
        if not self.enabled or shape is None:
            return None
        shelf = self._shelves.setdefault(shape, _Shelf())
        shelf.cold_starts.append(self._clock())
        if not shelf.ready:
            return None
        self.handed_out += 1
        return shelf.ready.pop()  # the newest: the least time for anything to go wrong with it

    def tick(self, cold_starts_in_progress: int) -> None:
        """Start one vacancy the policy wants (unless a cold start is starting) and stop the
        ones it does not want any more."""
        if not self.enabled or self._closed:
            return
        now = self._clock()
        for shelf in self._shelves.values():
            while shelf.cold_starts and now - shelf.cold_starts[0] > self._limits.window_s:
                shelf.cold_starts.popleft()
        demand = {shape: list(s.cold_starts) for shape, s in self._shelves.items()}
        targets = vacancy_targets(demand, now, self._limits)
        for shape, shelf in list(self._shelves.items()):
            surplus = len(shelf.ready) + shelf.starting - targets.get(shape, 0)
            while surplus > 0 and shelf.ready:
                self._spawn(self._stop(shelf.ready.pop(0)))  # the oldest go first
                surplus -= 1
            if (
                not shelf.ready
                and not shelf.starting
                and not recent(shelf.cold_starts, now, self._limits.window_s)
            ):
                del self._shelves[shape]
        if cold_starts_in_progress or any(s.starting for s in self._shelves.values()):
            return
        for shape, target in sorted(targets.items()):
            shelf = self._shelves[shape]
            if len(shelf.ready) + shelf.starting < target:
                shelf.starting += 1
                self._spawn(self._start(shape, shelf))
                return

    async def _start(self, shape: Shape, shelf: _Shelf) -> None:
        vacancy = Vacancy(VacantSpec(new_instance_id(), self._server_id, shape), self._clock())
        try:
            vacancy.handle = await asyncio.wait_for(
                self._driver.start_vacant(vacancy.spec), self._start_timeout_s
            )
            handle = vacancy.handle
            vacancy.agent = self._agent_factory(
                handle.host, handle.port, handle.token, dial=handle.dial
            )
            await vacancy.agent.wait_ready(self._start_timeout_s)
        except (StartFailed, AgentUnreachable, TimeoutError, OSError) as exc:
            log.warning("could not start a vacant instance of %s: %s", shape, exc)
            await self._stop(vacancy)
            return
        except BaseException:
            await asyncio.shield(self._stop(vacancy))
            raise
        finally:
            shelf.starting -= 1
        if self._closed:
            await self._stop(vacancy)
            return
        shelf.ready.append(vacancy)
        self._shelves.setdefault(shape, shelf)
        log.info("vacant instance ready", extra={"instance": vacancy.instance_id})

    async def _stop(self, vacancy: Vacancy) -> None:
        if vacancy.agent is not None:
            await vacancy.agent.close()
        if vacancy.handle is not None:
            try:
                await asyncio.wait_for(self._driver.stop(vacancy.handle), self._stop_timeout_s)
            except Exception:
                log.exception("could not stop a vacancy", extra={"instance": vacancy.instance_id})

    def exited(self, instance_id: str) -> None:
        """The driver saw an instance die that the pool does not know: one of ours, perhaps."""
        for shelf in self._shelves.values():
            for vacancy in shelf.ready:
                if vacancy.instance_id == instance_id:
                    shelf.ready.remove(vacancy)
                    log.warning("vacant instance died", extra={"instance": instance_id})
                    self._spawn(self._stop(vacancy))
                    return

    def discard(self, vacancy: Vacancy) -> None:
        """A taken vacancy that could not be specialised: remove it."""
        self._spawn(self._stop(vacancy))

    async def close(self) -> None:
        """Stop every vacancy, those still starting included."""
        self._closed = True
        for shelf in self._shelves.values():
            while shelf.ready:
                self._spawn(self._stop(shelf.ready.pop()))
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def describe(self) -> list[dict[str, Any]]:
        now = self._clock()
        return [
            {
                "Shape": str(shape),
                "Runtime": shape.runtime,
                "MemorySize": shape.memory_mb,
                "EphemeralStorage": shape.ephemeral_storage_mb,
                "Ready": [
                    {
                        "InstanceId": v.instance_id,
                        "AgeSeconds": round(now - v.started_at, 3),
                        "Endpoint": f"{v.handle.host}:{v.handle.port}" if v.handle else None,
                    }
                    for v in shelf.ready
                ],
                "Starting": shelf.starting,
                "RecentColdStarts": len(recent(shelf.cold_starts, now, self._limits.window_s)),
            }
            for shape, shelf in sorted(self._shelves.items())
        ]

    def ready_count(self) -> int:
        return sum(len(shelf.ready) for shelf in self._shelves.values())

    def _spawn(self, coroutine: Coroutine[Any, Any, object]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
