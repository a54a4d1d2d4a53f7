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
    return [
        i
        for i in instances
        if i.live and i.state is not State.DRAINING and i.revision_id != keep_revision
    ]


def housekeeping(instances: Iterable[Instance], now: float) -> list[tuple[Instance, str]]:
    """Instances to retire now, with the reason: idle too long, lived too long, served enough.

    Idle ones stop at once; a busy one past its lifetime drains (finishes, then stops).
    Provisioned instances never expire for idleness: keeping them warm is their point.
    """
    decisions = []
    for instance in instances:
        if instance.state not in (State.IDLE, State.BUSY):
            continue
        if now >= instance.retire_at:
            decisions.append((instance, "lifetime"))
        elif (
            instance.state is State.IDLE
            and not instance.provisioned
            and now - instance.last_used >= instance.idle_timeout_s
        ):
            decisions.append((instance, "idle"))
    return decisions


def served_enough(instance: Instance) -> bool:
    return instance.max_invocations > 0 and instance.invocations >= instance.max_invocations


def provisioned_shortfall(instances: Iterable[Instance], revision_id: str, wanted: int) -> int:
    """How many provisioned instances of this revision to start (negative: how many too many)."""
    have = sum(
        1
        for i in instances
        if i.provisioned
        and i.live
        and i.state is not State.DRAINING
        and i.revision_id == revision_id
    )
    return wanted - have
