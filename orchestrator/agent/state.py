"""The runtime's lifecycle as the agent sees it: a state enum and a literal transition table.

    initializing --first /next--> ready --event delivered--> busy --response/error--> ready
    initializing --init error / exit / init timeout--> failed --next invoke--> initializing
    ready / busy --exit, timeout (restart at once)--> initializing
    any but stopped --shutdown--> stopped

Every transition not in the table is refused with `InvalidTransition`.
"""

from __future__ import annotations

import enum


class RuntimeState(enum.StrEnum):
    INITIALIZING = "initializing"  # process started, no /next yet; bounded by the init timeout
    READY = "ready"  # init done, no event held by the runtime
    BUSY = "busy"  # the runtime holds an event; bounded by the function timeout
    FAILED = "failed"  # init failed; restarted lazily by the next invoke
    STOPPED = "stopped"  # shut down; terminal


TRANSITIONS: dict[RuntimeState, frozenset[RuntimeState]] = {
    RuntimeState.INITIALIZING: frozenset(
        {RuntimeState.READY, RuntimeState.FAILED, RuntimeState.STOPPED}
    ),
    RuntimeState.READY: frozenset(
        {RuntimeState.BUSY, RuntimeState.INITIALIZING, RuntimeState.STOPPED}
    ),
    RuntimeState.BUSY: frozenset(
        {RuntimeState.READY, RuntimeState.INITIALIZING, RuntimeState.STOPPED}
    ),
    RuntimeState.FAILED: frozenset({RuntimeState.INITIALIZING, RuntimeState.STOPPED}),
    RuntimeState.STOPPED: frozenset(),
}


class InvalidTransition(RuntimeError):
    def __init__(self, current: RuntimeState, target: RuntimeState) -> None:
        super().__init__(f"runtime state {current.value} -> {target.value} is not allowed")
        self.current = current
        self.target = target


class RuntimeStateMachine:
    """Holds the current state; not thread-safe on its own (the sandbox lock guards it)."""

    def __init__(self, initial: RuntimeState = RuntimeState.INITIALIZING) -> None:
        self._state = initial

    @property
    def state(self) -> RuntimeState:
        return self._state

    def can(self, target: RuntimeState) -> bool:
        return target in TRANSITIONS[self._state]

    def transition(self, target: RuntimeState) -> None:
        if target not in TRANSITIONS[self._state]:
            raise InvalidTransition(self._state, target)
        self._state = target
