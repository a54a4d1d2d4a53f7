"""The agent's runtime state machine: every allowed and every forbidden transition."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.agent.state import (
    TRANSITIONS,
    InvalidTransition,
    RuntimeState,
    RuntimeStateMachine,
)

S = RuntimeState
ALLOWED = {
    (S.INITIALIZING, S.READY),  # first /next
    (S.INITIALIZING, S.FAILED),  # /init/error, exit before /next, init timeout
    (S.INITIALIZING, S.STOPPED),
    (S.READY, S.BUSY),  # event delivered
    (S.READY, S.INITIALIZING),  # exited while idle: restarted at once
    (S.READY, S.STOPPED),
    (S.BUSY, S.READY),  # response or error posted
    (S.BUSY, S.INITIALIZING),  # timeout or exit mid-invoke: restarted at once
    (S.BUSY, S.STOPPED),
    (S.FAILED, S.INITIALIZING),  # lazy restart on the next invoke
    (S.FAILED, S.STOPPED),
}
ALL_PAIRS = list(itertools.product(RuntimeState, repeat=2))


def test_the_table_is_exactly_the_documented_one() -> None:
    table = {(a, b) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == ALLOWED
    assert set(TRANSITIONS) == set(RuntimeState)


@pytest.mark.parametrize(("current", "target"), sorted(ALLOWED))
def test_allowed_transition(current: RuntimeState, target: RuntimeState) -> None:
    machine = RuntimeStateMachine(current)
    assert machine.can(target)
    machine.transition(target)
    assert machine.state is target


@pytest.mark.parametrize(("current", "target"), [p for p in ALL_PAIRS if p not in ALLOWED])
def test_forbidden_transition_raises_and_changes_nothing(
    current: RuntimeState, target: RuntimeState
) -> None:
    machine = RuntimeStateMachine(current)
    assert not machine.can(target)
    with pytest.raises(InvalidTransition) as excinfo:
        machine.transition(target)
    assert machine.state is current
    assert (excinfo.value.current, excinfo.value.target) == (current, target)


def test_no_state_moves_to_itself_and_stopped_is_terminal() -> None:
    assert all(state not in TRANSITIONS[state] for state in RuntimeState)
    assert TRANSITIONS[S.STOPPED] == frozenset()


def test_starts_initializing() -> None:
    assert RuntimeStateMachine().state is S.INITIALIZING


def test_a_whole_life() -> None:
    machine = RuntimeStateMachine()
    for target in (
        S.READY,
        S.BUSY,
        S.READY,
        S.BUSY,
        S.INITIALIZING,
        S.FAILED,
        S.INITIALIZING,
        S.READY,
        S.STOPPED,
    ):
        machine.transition(target)
    assert machine.state is S.STOPPED
