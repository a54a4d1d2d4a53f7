"""How many vacant instances to keep, per shape: a pure function of recent cold starts.

A vacant instance is started with no function (its agent waits for one) and handed to the next
cold start of its shape, which then skips the engine's container start (docs/performance.md).
Its shape is what cannot change once a container runs: the runtime image, the memory limit and
the size of /tmp. Functions with the same shape share vacancies; a vacancy, once handed to a
function, is that function's for good.

The policy keeps vacancies only where cold starts happened lately, as many as the largest
recent burst (cold starts close together: a scale-out, a deploy that retires every instance),
within a per-shape cap and a memory budget that counts each vacancy at its memory limit (what
it may use once a function runs in it). Shapes whose demand is most recent are served first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Shape:
    """What a vacant instance is fixed to when its container starts."""

    runtime: str
    memory_mb: int
    ephemeral_storage_mb: int

    def __str__(self) -> str:
        return f"{self.runtime}/{self.memory_mb}MB/tmp{self.ephemeral_storage_mb}MB"


@dataclass(frozen=True)
class VacancyLimits:
    memory_budget_mb: int = 1024  # the sum of every vacancy's memory limit; 0 keeps none
    per_shape: int = 2
    window_s: float = 900.0  # cold starts older than this are forgotten
    burst_s: float = 10.0  # cold starts within this span of one another form one burst


def largest_burst(times: Sequence[float], burst_s: float) -> int:
    """The most cold starts within any span of `burst_s` seconds (times in ascending order)."""
    best = 0
    first = 0
    for last, t in enumerate(times):
        while t - times[first] > burst_s:
            first += 1
        best = max(best, last - first + 1)
    return best


def recent(times: Sequence[float], now: float, window_s: float) -> list[float]:
    """The cold starts within the window, oldest first."""
    return sorted(t for t in times if now - t <= window_s)


def vacancy_targets(
    cold_starts: Mapping[Shape, Sequence[float]], now: float, limits: VacancyLimits
) -> dict[Shape, int]:
    """How many vacancies each shape should have now (shapes with none are left out)."""
    wanted: list[tuple[float, Shape, int]] = []
    for shape, times in cold_starts.items():
        kept = recent(times, now, limits.window_s)
        if kept:
            want = min(limits.per_shape, largest_burst(kept, limits.burst_s))
            wanted.append((kept[-1], shape, want))
    budget = limits.memory_budget_mb
    targets: dict[Shape, int] = {}
    # Most recent demand first; equal times in shape order, so the answer never depends on the
    # mapping's order.
    for _, shape, want in sorted(wanted, key=lambda w: (-w[0], w[1])):
        count = min(want, budget // shape.memory_mb) if shape.memory_mb > 0 else 0
        if count > 0:
            targets[shape] = count
            budget -= count * shape.memory_mb
    return targets
