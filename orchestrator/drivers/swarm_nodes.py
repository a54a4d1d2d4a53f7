"""Which swarm nodes the control plane has lost: a pure record of what the driver observed
(tested with tables in tests/unit/test_swarm_nodes.py).

Swarm declares a node down only after several missed heartbeats (about 12 s on the test
cluster); until then it would place new instances there and report the old ones running. The
control plane notices sooner, through the data path: the node's gateway stops accepting
connections. A node is lost when the manager says it is not ready, or when its gateway failed
PROBE_FAILURES probes in a row; it is lost while the manager says so, and for HOLD_S after the
last failed probe otherwise (a blip, or a node the manager never saw go, is tried again then).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

PROBE_FAILURES = 2
HOLD_S = 30.0


@dataclass
class _Node:
    ready: bool = True
    failures: int = 0
    lost_at: float | None = None


@dataclass
class NodeHealth:
    clock: Callable[[], float]
    _nodes: dict[str, _Node] = field(default_factory=dict)

    def observe(self, node_id: str, ready: bool, gateway_answered: bool | None) -> None:
        """One look at a node: the manager's word and, when it has one, its gateway's probe
        (None: no gateway there to probe)."""
        node = self._nodes.setdefault(node_id, _Node())
        node.ready = ready
        if gateway_answered is None:
            return
        node.failures = 0 if gateway_answered else node.failures + 1
        if node.failures >= PROBE_FAILURES:
            node.lost_at = self.clock()

    def lost(self) -> set[str]:
        now = self.clock()
        return {
            node_id
            for node_id, node in list(self._nodes.items())  # (the sweep's thread reads too)
            if not node.ready or (node.lost_at is not None and now - node.lost_at < HOLD_S)
        }
