"""The last few hours of each function's figures, minute by minute, for the console's charts.

Prometheus keeps history for whoever scrapes `/metrics`; a team without one still wants to see
what just happened. So the control plane keeps, per function and per minute: invocations,
errors, throttles, cold starts, the most invocations running at once, and a bounded sample of
durations (for p50 / p99). Memory is bounded twice: `keep_minutes` buckets per function, and at most
`max_functions` functions (the least recently active is forgotten first).

Pure apart from the injected clock; `percentile` and `points` are tested with tables.
"""

from __future__ import annotations

import math
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

MINUTE_S = 60
KEEP_MINUTES = 180
SAMPLES_PER_MINUTE = 256  # durations kept per bucket; beyond it, a uniform reservoir sample
MAX_FUNCTIONS = 500


@dataclass
class Bucket:
    """One function's minute."""

    minute: int  # epoch seconds // 60
    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    cold_starts: int = 0
    max_concurrency: int = 0
    durations_ms: list[float] = field(default_factory=list)
    seen_durations: int = 0


@dataclass(frozen=True)
class Point:
    """A minute as the charts read it (p50 / p99 None when nothing ran that minute)."""

    minute_start: int  # epoch seconds
    invocations: int
    errors: int
    throttles: int
    cold_starts: int
    max_concurrency: int
    p50_ms: float | None
    p99_ms: float | None


@dataclass(frozen=True)
class Summary:
    invocations: int
    errors: int
    throttles: int
    cold_starts: int
    p50_ms: float | None
    p99_ms: float | None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100) of unsorted `values`; None for none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def points(buckets: Iterable[Bucket], first_minute: int, last_minute: int) -> list[Point]:
    """One point per minute from first to last, empty minutes included (charts need them)."""
    by_minute = {b.minute: b for b in buckets}
    out: list[Point] = []
    for minute in range(first_minute, last_minute + 1):
        b = by_minute.get(minute)
        if b is None:
            out.append(Point(minute * MINUTE_S, 0, 0, 0, 0, 0, None, None))
            continue
        out.append(
            Point(
                minute * MINUTE_S,
                b.invocations,
                b.errors,
                b.throttles,
                b.cold_starts,
                b.max_concurrency,
                percentile(b.durations_ms, 50),
                percentile(b.durations_ms, 99),
            )
        )
    return out


def summarize(buckets: Iterable[Bucket]) -> Summary:
    kept = list(buckets)
    durations = [d for b in kept for d in b.durations_ms]
    return Summary(
        sum(b.invocations for b in kept),
        sum(b.errors for b in kept),
        sum(b.throttles for b in kept),
        sum(b.cold_starts for b in kept),
        percentile(durations, 50),
        percentile(durations, 99),
    )


class MetricHistory:
    def __init__(
        self,
        clock: Callable[[], float] = time.time,
        keep_minutes: int = KEEP_MINUTES,
        max_functions: int = MAX_FUNCTIONS,
        rng: random.Random | None = None,
    ) -> None:
        self._clock = clock
        self._keep = keep_minutes
        self._max_functions = max_functions
        self._rng = rng or random.Random()
        # function -> its buckets, oldest first; the dict itself in least-recent-activity order
        self._functions: OrderedDict[str, list[Bucket]] = OrderedDict()
        self._running: dict[str, int] = {}  # invocations running now, by function

    def now_minute(self) -> int:
        return int(self._clock()) // MINUTE_S

    def _bucket(self, function: str) -> Bucket:
        minute = self.now_minute()
        buckets = self._functions.get(function)
        if buckets is None:
            buckets = self._functions[function] = []
            while len(self._functions) > self._max_functions:
                self._functions.popitem(last=False)
        else:
            self._functions.move_to_end(function)
        if not buckets or buckets[-1].minute != minute:
            buckets.append(Bucket(minute))
            oldest = minute - self._keep + 1
            while buckets[0].minute < oldest:
                buckets.pop(0)
        return buckets[-1]

    def invoked(self, function: str, failed: bool, duration_ms: float | None, cold: bool) -> None:
        b = self._bucket(function)
        b.invocations += 1
        b.errors += failed
        b.cold_starts += cold
        if duration_ms is not None:
            b.seen_durations += 1
            if len(b.durations_ms) < SAMPLES_PER_MINUTE:
                b.durations_ms.append(duration_ms)
            else:  # reservoir sampling: every duration of the minute equally likely to be kept
                slot = self._rng.randrange(b.seen_durations)
                if slot < SAMPLES_PER_MINUTE:
                    b.durations_ms[slot] = duration_ms

    def throttled(self, function: str) -> None:
        self._bucket(function).throttles += 1

    def running(self, function: str, change: int) -> None:
        """An invocation of `function` started (+1) or ended (-1): each minute keeps the most
        that ran at once."""
        now_running = max(0, self._running.get(function, 0) + change)
        if now_running:
            self._running[function] = now_running
        else:
            self._running.pop(function, None)
        b = self._bucket(function)
        b.max_concurrency = max(b.max_concurrency, now_running)

    def functions(self) -> list[str]:
        return sorted(self._functions)

    def _recent(self, function: str, minutes: int) -> tuple[list[Bucket], int, int]:
        last = self.now_minute()
        first = last - max(1, min(minutes, self._keep)) + 1
        kept = [b for b in self._functions.get(function, ()) if b.minute >= first]
        return kept, first, last

    def series(self, function: str, minutes: int) -> list[Point]:
        kept, first, last = self._recent(function, minutes)
        return points(kept, first, last)

    def summary(self, function: str, minutes: int) -> Summary:
        kept, _, _ = self._recent(function, minutes)
        return summarize(kept)


def render_point(point: Point) -> dict[str, Any]:
    return {
        "Time": point.minute_start,
        "Invocations": point.invocations,
        "Errors": point.errors,
        "Throttles": point.throttles,
        "ColdStarts": point.cold_starts,
        "MaxConcurrency": point.max_concurrency,
        "P50Ms": point.p50_ms,
        "P99Ms": point.p99_ms,
    }


def render_summary(summary: Summary) -> dict[str, Any]:
    return {
        "Invocations": summary.invocations,
        "Errors": summary.errors,
        "Throttles": summary.throttles,
        "ColdStarts": summary.cold_starts,
        "P50Ms": summary.p50_ms,
        "P99Ms": summary.p99_ms,
    }
