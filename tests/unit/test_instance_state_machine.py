"""Walk every (state, event) pair: the table's moves happen, every other one is refused."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.instance import (
    TRANSITIONS,
    Event,
    IllegalTransition,
    Instance,
    State,
    Timeouts,
)

S, E = State, Event
# Written out again, independently of instance.py: a change to the lifecycle must change both.
EXPECTED = {
    (S.STARTING, E.BEGIN_INIT): S.INITIALIZING, (S.STARTING, E.CLAIM): S.BUSY,
    (S.STARTING, E.RETIRE): S.DRAINING, (S.STARTING, E.DIED): S.FAILED,
    (S.STARTING, E.EXPIRE): S.FAILED,
    (S.INITIALIZING, E.READY): S.IDLE, (S.INITIALIZING, E.RETIRE): S.STOPPING,
    (S.INITIALIZING, E.DIED): S.FAILED, (S.INITIALIZING, E.EXPIRE): S.FAILED,
    (S.IDLE, E.CLAIM): S.BUSY, (S.IDLE, E.RETIRE): S.STOPPING, (S.IDLE, E.DIED): S.FAILED,
    (S.IDLE, E.EXPIRE): S.STOPPING,
    (S.BUSY, E.FINISH): S.IDLE, (S.BUSY, E.RETIRE): S.DRAINING, (S.BUSY, E.STOP): S.STOPPING,
    (S.BUSY, E.DIED): S.FAILED, (S.BUSY, E.EXPIRE): S.FAILED,
    (S.DRAINING, E.RETIRE): S.DRAINING, (S.DRAINING, E.STOP): S.STOPPING,
    (S.DRAINING, E.DIED): S.FAILED, (S.DRAINING, E.EXPIRE): S.FAILED,
    (S.FAILED, E.STOP): S.STOPPING,
    (S.STOPPING, E.STOPPED): S.STOPPED,
}  # fmt: skip

TIMEOUTS = Timeouts(starting=1, initializing=2, idle=3, busy=4, stopping=5)
INF = float("inf")
EXPECTED_TIMEOUT = {
    S.STARTING: 1, S.INITIALIZING: 2, S.IDLE: 3, S.BUSY: 4, S.DRAINING: 4, S.STOPPING: 5,
    S.FAILED: INF, S.STOPPED: INF,
}  # fmt: skip


def instance_in(state: State, now: list[float]) -> Instance:
    instance = Instance("f", "rev", clock=lambda: now[0], timeouts=TIMEOUTS)
    instance.state = state  # set directly: this test is about the table, not about paths to it
    return instance


@pytest.mark.parametrize(("current", "event"), list(itertools.product(State, Event)))
def test_every_pair(current: State, event: Event) -> None:
    now = [100.0]
    instance = instance_in(current, now)
    before = instance.deadline
    now[0] = 150.0
    if (current, event) in EXPECTED:
        to = EXPECTED[current, event]
        assert instance.fire(event) is to and instance.state is to
        if to is not current:
            assert instance.state_since == 150.0
            assert instance.deadline == 150.0 + EXPECTED_TIMEOUT[to], "each state's own limit"
    else:
        assert not instance.accepts(event)
        with pytest.raises(IllegalTransition):
            instance.fire(event)
        assert instance.state is current, "a refused event changes nothing"
        assert instance.deadline == before


def test_table_is_exactly_the_expected_one() -> None:
    assert TRANSITIONS == EXPECTED


def test_stopped_is_final_and_every_live_state_can_fail() -> None:
    assert not [e for e in Event if (State.STOPPED, e) in TRANSITIONS]
    for state in (S.STARTING, S.INITIALIZING, S.IDLE, S.BUSY, S.DRAINING):
        assert TRANSITIONS[state, Event.DIED] is State.FAILED


@pytest.mark.parametrize("state", list(State))
def test_every_state_has_a_declared_timeout(state: State) -> None:
    assert TIMEOUTS.of(state) == EXPECTED_TIMEOUT[state]


def test_expiry_follows_the_deadline() -> None:
    now = [10.0]
    instance = Instance("f", "rev", clock=lambda: now[0], timeouts=TIMEOUTS)
    assert instance.deadline == 11.0 and not instance.expired(10.9) and instance.expired(11.0)
    instance.fire(Event.CLAIM)
    now[0] = 42.0
    instance.fire(Event.FINISH)
    assert instance.last_used == 42.0 and instance.deadline == 45.0  # the idle timeout
