from __future__ import annotations

import pytest

from orchestrator import policy
from orchestrator.instance import Instance, State


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
