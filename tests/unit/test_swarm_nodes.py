"""When the swarm driver counts a node lost (swarm_nodes.py): tables of observations."""

from __future__ import annotations

import pytest

from orchestrator.drivers.swarm_nodes import HOLD_S, NodeHealth

# Each step: (seconds since the start, manager says ready, gateway answered or None).
Step = tuple[float, bool, bool | None]


@pytest.mark.parametrize(
    ("steps", "at", "lost"),
    [
        ([(0, True, True)], 0, False),
        ([(0, False, None)], 0, True),  # the manager's word is enough
        ([(0, True, False)], 0, False),  # one failed probe is not
        ([(0, True, False), (1, True, False)], 1, True),  # two in a row are
        ([(0, True, False), (1, True, True), (2, True, False)], 2, False),  # not in a row
        ([(0, True, False), (1, True, False), (2, True, None)], 1 + HOLD_S - 0.1, True),
        ([(0, True, False), (1, True, False), (2, True, None)], 1 + HOLD_S, False),  # tried again
        ([(0, True, False), (1, True, False), (2, False, None)], 100, True),  # down: still lost
        ([(0, True, False), (1, True, False), (40, True, None)], 40, False),  # back
    ],
)
def test_lost(steps: list[Step], at: float, lost: bool) -> None:
    now = [0.0]
    health = NodeHealth(lambda: now[0])
    for when, ready, answered in steps:
        now[0] = when
        health.observe("n1", ready, answered)
    now[0] = at
    assert health.lost() == ({"n1"} if lost else set())
