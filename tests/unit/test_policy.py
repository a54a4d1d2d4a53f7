from __future__ import annotations

import pytest

from orchestrator import policy
from orchestrator.instance import Event, Instance, State, StopReason, Timeouts


def make(state: State, last_used: float, revision: str = "r1") -> Instance:
    instance = Instance("f", revision, clock=lambda: 0.0)
    instance.state = state
    instance.last_used = last_used
    return instance


@pytest.mark.parametrize(
    ("instances", "expected_index"),
    [
        ([], None),
        ([make(State.BUSY, 5)], None),
        ([make(State.IDLE, 5)], 0),
        ([make(State.IDLE, 5), make(State.IDLE, 9), make(State.IDLE, 7)], 1),
        ([make(State.IDLE, 9, "old"), make(State.IDLE, 1)], 1),
        ([make(State.STARTING, 9), make(State.DRAINING, 9), make(State.IDLE, 2)], 2),
    ],
)
def test_choose_idle_picks_most_recently_used_of_the_revision(
    instances: list[Instance], expected_index: int | None
) -> None:
    chosen = policy.choose_idle(instances, "r1")
    assert chosen is (None if expected_index is None else instances[expected_index])


def test_to_retire_keeps_current_revision_and_skips_draining_and_dead() -> None:
    old_idle = make(State.IDLE, 1, "old")
    old_busy = make(State.BUSY, 1, "old")
    old_draining = make(State.DRAINING, 1, "old")
    old_stopped = make(State.STOPPED, 1, "old")
    current = make(State.IDLE, 1, "new")
    assert policy.to_retire([old_idle, old_busy, old_draining, old_stopped, current], "new") == [
        old_idle,
        old_busy,
    ]
    assert policy.to_retire([current], None) == [current]


def limited(state: State, provisioned: bool = False) -> Instance:
    """An instance at t=0 in `state`, with every state's limit 10 s and a lifetime of 100 s."""
    limits = Timeouts(starting=10, initializing=10, idle=10, busy=10, stopping=10)
    instance = Instance("f", "r1", clock=lambda: 0.0, timeouts=limits, lifetime_s=100)
    instance.state, instance.deadline, instance.provisioned = state, 10.0, provisioned
    return instance


R, X = Event.RETIRE, Event.EXPIRE


@pytest.mark.parametrize(
    ("state", "provisioned", "now", "expected"),
    [
        (State.IDLE, False, 9.9, None),
        (State.IDLE, False, 10.0, (X, StopReason.IDLE)),
        (State.IDLE, True, 50.0, None),  # provisioned: kept warm however long it idles
        (State.IDLE, True, 100.0, (R, StopReason.LIFETIME)),
        (State.IDLE, False, 100.0, (R, StopReason.LIFETIME)),  # lifetime outranks idleness
        (State.BUSY, False, 9.9, None),
        (State.BUSY, False, 10.0, (X, StopReason.TIMEOUT)),  # hung past the invocation bound
        (State.BUSY, False, 100.0, (R, StopReason.LIFETIME)),  # drains, finishes first
        (State.DRAINING, False, 10.0, (X, StopReason.TIMEOUT)),
        (State.INITIALIZING, True, 10.0, (X, StopReason.TIMEOUT)),
        (State.INITIALIZING, True, 9.0, None),
        (State.STARTING, False, 50.0, None),  # bounded by the start itself, not the tick
        (State.STOPPING, False, 50.0, None),  # bounded by the teardown itself
        (State.FAILED, False, 500.0, None),
        (State.STOPPED, False, 500.0, None),
    ],
)
def test_housekeeping_decides_by_state_deadline_and_lifetime(
    state: State, provisioned: bool, now: float, expected: tuple[Event, StopReason] | None
) -> None:
    instance = limited(state, provisioned)
    decisions = policy.housekeeping([instance], now)
    assert decisions == ([] if expected is None else [(instance, *expected)])
