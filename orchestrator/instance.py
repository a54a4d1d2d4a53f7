"""The instance lifecycle: one explicit state machine, driven by events.

    STARTING --begin_init--> INITIALIZING --ready--> IDLE <--claim/finish--> BUSY
    STARTING --claim--> BUSY             (a cold start: the invocation rides along with init)
    BUSY/STARTING --retire--> DRAINING --stop--> STOPPING --stopped--> STOPPED
    IDLE/INITIALIZING --retire--> STOPPING
    any live state --died--> FAILED --stop--> STOPPING

Callers name what happened (`Event`), never the state they want: `TRANSITIONS` alone says where
each (state, event) pair leads, and every pair not in it raises `IllegalTransition`. Transitions
are irreversible, so a caller checks the state it expects by firing the event (or by `accepts`).

Each state's time limit sits in `Timeouts`, next to the states it bounds; `Instance.deadline`
is set on every transition and enforced (see `Timeouts`), so no instance can sit in one state
forever: a start that hangs, an init that never ends, an invocation the agent never answers, an
idle instance nobody wants, a stop the engine never confirms.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from .arns import LATEST

if TYPE_CHECKING:
    from .agent_client import AgentClient
    from .drivers.base import InstanceHandle


class State(StrEnum):
    STARTING = "starting"
    INITIALIZING = "initializing"
    IDLE = "idle"
    BUSY = "busy"
    DRAINING = "draining"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class Event(StrEnum):
    BEGIN_INIT = "begin_init"  # started ahead of demand (provisioned): init runs with no event
    READY = "ready"  # init finished
    CLAIM = "claim"  # an invocation takes the instance
    FINISH = "finish"  # the invocation ended and the instance is healthy
    RETIRE = "retire"  # no longer wanted: idle ones stop now, busy ones finish first
    STOP = "stop"  # teardown begins
    DIED = "died"  # crashed, unreachable, abandoned mid-invocation or failed to start
    EXPIRE = "expire"  # the current state's time limit passed
    STOPPED = "stopped"  # teardown is done


class StopReason(StrEnum):
    """Why an instance stopped: a closed list, used as the metrics label as it is."""

    IDLE = "idle"
    LIFETIME = "lifetime"
    MAX_INVOCATIONS = "max_invocations"
    UPDATE = "update"  # the function's code or configuration changed
    DELETED = "deleted"
    CRASH = "crash"
    OOM = "oom"
    TIMEOUT = "timeout"  # a state outlived its time limit (hung start, init or agent)
    START_FAILED = "start_failed"
    INIT_FAILED = "init_failed"
    ABANDONED = "abandoned"  # the invocation was cancelled or raised: state unknown
    SHUTDOWN = "shutdown"


S, E = State, Event
TRANSITIONS: dict[tuple[State, Event], State] = {
    (S.STARTING, E.BEGIN_INIT): S.INITIALIZING,
    (S.STARTING, E.CLAIM): S.BUSY,
    (S.STARTING, E.RETIRE): S.DRAINING,  # still serves the cold start it was started for
    (S.STARTING, E.DIED): S.FAILED,
    (S.STARTING, E.EXPIRE): S.FAILED,
    (S.INITIALIZING, E.READY): S.IDLE,
    (S.INITIALIZING, E.RETIRE): S.STOPPING,
    (S.INITIALIZING, E.DIED): S.FAILED,
    (S.INITIALIZING, E.EXPIRE): S.FAILED,
    (S.IDLE, E.CLAIM): S.BUSY,
    (S.IDLE, E.RETIRE): S.STOPPING,
    (S.IDLE, E.DIED): S.FAILED,
    (S.IDLE, E.EXPIRE): S.STOPPING,  # the idle timeout: nothing is wrong with it
    (S.BUSY, E.FINISH): S.IDLE,
    (S.BUSY, E.RETIRE): S.DRAINING,
    (S.BUSY, E.STOP): S.STOPPING,  # finished and served enough
    (S.BUSY, E.DIED): S.FAILED,
    (S.BUSY, E.EXPIRE): S.FAILED,  # the agent outlived the invocation's bound: wedged
    (S.DRAINING, E.RETIRE): S.DRAINING,  # already on its way out
    (S.DRAINING, E.STOP): S.STOPPING,
    (S.DRAINING, E.DIED): S.FAILED,
    (S.DRAINING, E.EXPIRE): S.FAILED,
    (S.FAILED, E.STOP): S.STOPPING,
    (S.STOPPING, E.STOPPED): S.STOPPED,
}
del S, E

LIVE_STATES = frozenset(
    {State.STARTING, State.INITIALIZING, State.IDLE, State.BUSY, State.DRAINING}
)


@dataclass(frozen=True)
class Timeouts:
    """How long an instance may stay in each state, in seconds (inf: unbounded).

    The pool's housekeeping fires EXPIRE at instances past their state's limit (policy.py),
    except STARTING and STOPPING: the coroutine that drives those waits for the driver at most
    that long (from when it gets a start slot, for STARTING), then gives up on the instance.
    """

    starting: float = float("inf")  # the driver's start and the agent's first answer
    initializing: float = float("inf")  # a provisioned instance's init
    idle: float = float("inf")
    busy: float = float("inf")  # one invocation, init included, plus the agent's grace
    stopping: float = float("inf")

    def of(self, state: State) -> float:
        # DRAINING finishes one invocation, so it gets the invocation's bound; FAILED lasts as
        # long as it takes to begin the stop, which happens at once; STOPPED is final.
        match state:
            case State.STARTING:
                return self.starting
            case State.INITIALIZING:
                return self.initializing
            case State.IDLE:
                return self.idle
            case State.BUSY | State.DRAINING:
                return self.busy
            case State.STOPPING:
                return self.stopping
        return float("inf")


class IllegalTransition(Exception):
    def __init__(self, instance_id: str, current: State, event: Event) -> None:
        super().__init__(f"instance {instance_id}: no transition from {current} on {event}")
        self.current = current
        self.event = event


def new_instance_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass(eq=False)
class Instance:
    """One sandbox serving one function revision, one invocation at a time."""

    function_name: str
    revision_id: str
    id: str = field(default_factory=new_instance_id)
    clock: Callable[[], float] = time.monotonic
    state: State = State.STARTING
    handle: InstanceHandle | None = None
    agent: AgentClient | None = None
    invocations: int = 0
    created_at: float = 0.0
    state_since: float = 0.0
    deadline: float = float("inf")  # when the current state's time limit runs out
    last_used: float = 0.0
    stop_reason: StopReason | None = None
    provisioned: bool = False
    timeouts: Timeouts = field(default_factory=Timeouts)
    # Limits, fixed when the instance is created (see limits.py).
    lifetime_s: float = float("inf")
    max_invocations: int = 0
    retire_at: float = float("inf")
    # queue (waiting for a start slot), start (driver), ready (until the agent answers), in ms.
    start_phases_ms: dict[str, float] = field(default_factory=dict)
    # The function's version it serves: instances of different versions never serve one
    # another's invocations.
    version: str = LATEST

    @property
    def pool_key(self) -> str:
        """The pool's key for its instances (as FunctionConfig.pool_key)."""
        return (
            self.function_name
            if self.version == "$LATEST"
            else f"{self.function_name}:{self.version}"
        )

    def __post_init__(self) -> None:
        now = self.clock()
        self.created_at = self.state_since = self.last_used = now
        self.deadline = now + self.timeouts.of(self.state)
        self.retire_at = now + self.lifetime_s

    def fire(self, event: Event) -> State:
        """Apply an event; returns the new state, or raises IllegalTransition (nothing changes)."""
        to = TRANSITIONS.get((self.state, event))
        if to is None:
            raise IllegalTransition(self.id, self.state, event)
        if to is not self.state:
            self.state = to
            self.state_since = self.clock()
            self.deadline = self.state_since + self.timeouts.of(to)
            if to is State.IDLE:
                self.last_used = self.state_since
        return to

    def accepts(self, event: Event) -> bool:
        return (self.state, event) in TRANSITIONS

    def expired(self, now: float) -> bool:
        return now >= self.deadline

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def describe(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "InstanceId": self.id,
            "FunctionName": self.function_name,
            "Version": self.version,
            "RevisionId": self.revision_id,
            "State": self.state.value,
            "AgeSeconds": round(now - self.created_at, 3),
            "Invocations": self.invocations,
            "Provisioned": self.provisioned,
            "RetiresInSeconds": round(self.retire_at - now, 1)
            if self.retire_at != float("inf")
            else None,
            "IdleSeconds": round(now - self.last_used, 3) if self.state is State.IDLE else 0.0,
            "Endpoint": f"{self.handle.host}:{self.handle.port}" if self.handle else None,
        }
