"""Pure scheduling policy: decisions over a snapshot of instances, tested with plain tables."""

from __future__ import annotations

from collections.abc import Iterable

from .instance import Event, Instance, State, StopReason


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


# States whose time limit the housekeeping tick enforces. STARTING and STOPPING are bounded by
# the coroutine that drives them (it waits for the driver at most that long, then gives up);
# FAILED and STOPPED have no limit.
EXPIRING_STATES = frozenset({State.INITIALIZING, State.IDLE, State.BUSY, State.DRAINING})


def housekeeping(
    instances: Iterable[Instance], now: float
) -> list[tuple[Instance, Event, StopReason]]:
    """What to do now, and why: retire what lived too long, expire what sat too long in a state.

    An idle instance past its lifetime stops at once; a busy one drains (finishes, then stops).
    An instance past its state's time limit expires: idle ones stop (the idle timeout), hung
    ones (start, init, invocation) fail. Provisioned instances never expire for idleness:
    keeping them warm is their point.
    """
    decisions: list[tuple[Instance, Event, StopReason]] = []
    for instance in instances:
        if instance.state in (State.IDLE, State.BUSY) and now >= instance.retire_at:
            decisions.append((instance, Event.RETIRE, StopReason.LIFETIME))
        elif instance.state is State.IDLE:
            if not instance.provisioned and instance.expired(now):
                decisions.append((instance, Event.EXPIRE, StopReason.IDLE))
        elif instance.state in EXPIRING_STATES and instance.expired(now):
            decisions.append((instance, Event.EXPIRE, StopReason.TIMEOUT))
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
