"""Pure scheduling policy: decisions over a snapshot of instances, tested with plain tables."""

from __future__ import annotations

from collections.abc import Iterable

from .instance import Instance, State


def choose_idle(instances: Iterable[Instance], revision_id: str) -> Instance | None:
    """The most recently used idle instance of this revision.

    Reusing the warmest instance first keeps the warm set small, so the rest can expire.
    """
    best: Instance | None = None
    for instance in instances:
        if instance.state is State.IDLE and instance.revision_id == revision_id:
            if best is None or instance.last_used > best.last_used:
                best = instance
    return best


def to_retire(instances: Iterable[Instance], keep_revision: str | None) -> list[Instance]:
    """Live instances that no longer serve the current revision (or any, when None)."""
    return [i for i in instances if i.live and i.state is not State.DRAINING and i.revision_id != keep_revision]
