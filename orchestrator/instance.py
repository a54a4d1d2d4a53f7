"""The instance lifecycle: one explicit state machine.

    STARTING --> INITIALIZING --> IDLE <--> BUSY --> DRAINING --> STOPPING --> STOPPED
        \\______________________________/       (any live state) --> FAILED --> STOPPING

A cold-start invocation rides along with the start (STARTING -> BUSY): the agent runs init and
then that invocation. An instance retired while starting (its function was updated) still
serves the invocation it was started for (STARTING -> DRAINING), then stops. Every transition not in `ALLOWED` raises `IllegalTransition`; transitions
are irreversible, so callers check the state they expect by attempting the transition.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .agent_client import AgentClient
    from .drivers.base import InstanceHandle


class State(str, Enum):
    STARTING = "starting"
    INITIALIZING = "initializing"
    IDLE = "idle"
    BUSY = "busy"
    DRAINING = "draining"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


ALLOWED: dict[State, frozenset[State]] = {
    State.STARTING: frozenset(
        {State.INITIALIZING, State.BUSY, State.DRAINING, State.FAILED, State.STOPPING}
    ),
    State.INITIALIZING: frozenset({State.IDLE, State.FAILED, State.STOPPING}),
    State.IDLE: frozenset({State.BUSY, State.STOPPING}),
    State.BUSY: frozenset({State.IDLE, State.DRAINING, State.FAILED, State.STOPPING}),
    State.DRAINING: frozenset({State.STOPPING, State.FAILED}),
    State.FAILED: frozenset({State.STOPPING}),
    State.STOPPING: frozenset({State.STOPPED}),
    State.STOPPED: frozenset(),
}

# Which setting bounds the time an instance may spend in each state (None: unbounded here;
# BUSY and DRAINING are bounded per invocation by the function's own timeout).
STATE_TIMEOUT_SETTING: dict[State, str | None] = {
    State.STARTING: "instance_start_timeout_s",
    State.INITIALIZING: "instance_start_timeout_s",
    State.IDLE: "idle_timeout_s",
    State.BUSY: None,
    State.DRAINING: None,
    State.STOPPING: "instance_stop_timeout_s",
    State.STOPPED: None,
    State.FAILED: None,
}

LIVE_STATES = frozenset(
    {State.STARTING, State.INITIALIZING, State.IDLE, State.BUSY, State.DRAINING}
)


class IllegalTransition(Exception):
    def __init__(self, instance_id: str, current: State, wanted: State) -> None:
        super().__init__(
            f"instance {instance_id}: {current.value} -> {wanted.value} is not allowed"
        )
        self.current = current
        self.wanted = wanted


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
    last_used: float = 0.0
    stop_reason: str | None = None
    provisioned: bool = False
    # Limits, fixed when the instance is created (see limits.py).
    idle_timeout_s: float = float("inf")
    lifetime_s: float = float("inf")
    max_invocations: int = 0
    retire_at: float = float("inf")
    # queue (waiting for a start slot), start (driver), ready (until the agent answers), in ms.
    start_phases_ms: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        now = self.clock()
        self.created_at = self.state_since = self.last_used = now
        self.retire_at = now + self.lifetime_s

    def transition(self, to: State) -> None:
        if to not in ALLOWED[self.state]:
            raise IllegalTransition(self.id, self.state, to)
        self.state = to
        self.state_since = self.clock()
        if to is State.IDLE:
            self.last_used = self.state_since

    def can(self, to: State) -> bool:
        return to in ALLOWED[self.state]

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def describe(self) -> dict[str, Any]:
        now = self.clock()
        return {
            "InstanceId": self.id,
            "FunctionName": self.function_name,
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
