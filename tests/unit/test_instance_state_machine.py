"""Walk every pair of states: allowed transitions succeed, every other one is refused."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.instance import ALLOWED, STATE_TIMEOUT_SETTING, IllegalTransition, Instance, State

EXPECTED_ALLOWED = {
    (State.STARTING, State.INITIALIZING), (State.STARTING, State.BUSY), (State.STARTING, State.DRAINING),
    (State.STARTING, State.FAILED), (State.STARTING, State.STOPPING),
    (State.INITIALIZING, State.IDLE), (State.INITIALIZING, State.FAILED), (State.INITIALIZING, State.STOPPING),
    (State.IDLE, State.BUSY), (State.IDLE, State.STOPPING),
    (State.BUSY, State.IDLE), (State.BUSY, State.DRAINING), (State.BUSY, State.FAILED), (State.BUSY, State.STOPPING),
    (State.DRAINING, State.STOPPING), (State.DRAINING, State.FAILED),
    (State.FAILED, State.STOPPING),
    (State.STOPPING, State.STOPPED),
}  # fmt: skip


def instance_in(state: State) -> Instance:
    instance = Instance("f", "rev", clock=lambda: 1.0)
    instance.state = state  # set directly: this test is about the table, not about paths to it
    return instance


@pytest.mark.parametrize(("current", "wanted"), list(itertools.product(State, State)))
def test_every_pair(current: State, wanted: State) -> None:
    instance = instance_in(current)
    if (current, wanted) in EXPECTED_ALLOWED:
        instance.transition(wanted)
        assert instance.state is wanted
    else:
        with pytest.raises(IllegalTransition):
            instance.transition(wanted)
        assert instance.state is current, "a refused transition changes nothing"


def test_table_is_exactly_the_expected_one() -> None:
    table = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    assert table == EXPECTED_ALLOWED


def test_stopped_is_final_and_every_state_has_a_timeout_entry() -> None:
    assert ALLOWED[State.STOPPED] == frozenset()
    assert set(STATE_TIMEOUT_SETTING) == set(State)


def test_idle_records_last_used() -> None:
    now = [10.0]
    instance = Instance("f", "rev", clock=lambda: now[0])
    instance.transition(State.BUSY)
    now[0] = 42.0
    instance.transition(State.IDLE)
    assert instance.last_used == 42.0
