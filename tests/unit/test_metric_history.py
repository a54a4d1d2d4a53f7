"""The per-minute history behind the console's charts: percentiles, minutes with gaps, the
window, the bounds (durations per minute, functions kept), throttles and concurrency."""

from __future__ import annotations

import random

import pytest

from orchestrator.metric_history import MINUTE_S, MetricHistory, Point, percentile
from orchestrator.metrics import Metrics


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0  # a minute boundary: 30_000_000 * 60

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 99, 7.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([float(v) for v in range(1, 101)], 99, 99.0),
        ([float(v) for v in range(1, 101)], 100, 100.0),
        ([float(v) for v in range(1, 101)], 0, 1.0),
    ],
)
def test_percentile_nearest_rank(values: list[float], q: float, expected: float | None) -> None:
    assert percentile(values, q) == expected


def test_minutes_with_nothing_are_points_too_and_the_window_slides() -> None:
    clock = Clock()
    history = MetricHistory(clock)
    history.invoked("fn", False, 10.0, cold=True)
    history.invoked("fn", True, 30.0, cold=False)
    clock.now += 2 * MINUTE_S
    history.invoked("fn", False, 20.0, cold=False)
    series = history.series("fn", 3)
    start = int(clock.now) - 2 * MINUTE_S
    assert series == [
        Point(start, 2, 1, 0, 1, 0, 10.0, 30.0),
        Point(start + MINUTE_S, 0, 0, 0, 0, 0, None, None),
        Point(start + 2 * MINUTE_S, 1, 0, 0, 0, 0, 20.0, 20.0),
    ]
    assert history.series("fn", 2)[0].invocations == 0  # the first minute left the window
    summary = history.summary("fn", 60)
    assert (summary.invocations, summary.errors, summary.cold_starts) == (3, 1, 1)
    assert (summary.p50_ms, summary.p99_ms) == (20.0, 30.0)
    assert history.series("other", 2) == [
        Point(start + MINUTE_S, 0, 0, 0, 0, 0, None, None),
        Point(start + 2 * MINUTE_S, 0, 0, 0, 0, 0, None, None),
    ]


def test_old_minutes_are_dropped_and_durations_per_minute_bounded() -> None:
    clock = Clock()
    history = MetricHistory(clock, keep_minutes=5, rng=random.Random(1))
    for _ in range(10):
        history.invoked("fn", False, 1.0, cold=False)
        clock.now += MINUTE_S
    history.invoked("fn", False, 1.0, cold=False)
    assert sum(p.invocations for p in history.series("fn", 500)) == 5  # the window, capped
    for value in range(10_000):
        history.invoked("busy", False, float(value), cold=False)
    minute = history.series("busy", 1)[0]
    assert minute.invocations == 10_000
    assert minute.p50_ms is not None and 4000 < minute.p50_ms < 6000  # a fair sample of all
    assert minute.p99_ms is not None and minute.p99_ms > 9000


def test_functions_beyond_the_bound_forget_the_least_recently_active() -> None:
    history = MetricHistory(Clock(), max_functions=2)
    history.invoked("a", False, 1.0, cold=False)
    history.invoked("b", False, 1.0, cold=False)
    history.invoked("a", False, 1.0, cold=False)
    history.invoked("c", False, 1.0, cold=False)
    assert history.functions() == ["a", "c"]


def test_throttles_and_concurrency_peaks() -> None:
    clock = Clock()
    history = MetricHistory(clock)
    history.throttled("fn")
    for change in (+1, +1, +1, -1, +1, -1, -1, -1, -1):  # 3, then back to 3, then below 0
        history.running("fn", change)
    point = history.series("fn", 1)[0]
    assert (point.throttles, point.max_concurrency, point.invocations) == (1, 3, 0)
    clock.now += MINUTE_S
    history.running("fn", +1)
    assert history.series("fn", 1)[0].max_concurrency == 1  # the count went to 0, not -1


def test_the_prometheus_metrics_feed_the_history() -> None:
    metrics = Metrics(history=MetricHistory(Clock()))
    metrics.invoked("fn", "success", 0.012, None, cold=True)
    metrics.invoked("fn", "timeout", 3.0, None, cold=False)
    metrics.throttled("fn")
    summary = metrics.history.summary("fn", 60)
    assert (summary.invocations, summary.errors, summary.throttles, summary.cold_starts) == (
        2,
        1,
        1,
        1,
    )
    assert summary.p50_ms == pytest.approx(12.0)
