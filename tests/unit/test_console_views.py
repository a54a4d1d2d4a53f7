"""The console's view logic, as tables: chart geometry, the logs cursor, request-id patterns and
combining functions' series on the Metrics page."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.console.charts import chart
from orchestrator.console.logs_pages import after_cursor, parse_cursor, pattern_for
from orchestrator.console.metrics_pages import combined


@pytest.mark.parametrize(
    ("values", "segments", "label"),
    [
        ([], (), "n: peak 0, last none"),
        ([0.0, 0.0], ("0.0,9.0 10.0,9.0",), "n: peak 0, last 0"),
        ([1.0, 2.0], ("0.0,5.0 10.0,1.0",), "n: peak 2, last 2"),
        ([2.0, None, 1.0], ("0.0,1.0 0.0,1.0", "10.0,5.0 10.0,5.0"), "n: peak 2, last 1"),
        ([None, None], (), "n: peak 0, last none"),
        ([0.5, 250.0], ("0.0,9.0 10.0,1.0",), "n: peak 250, last 250"),
    ],
)
def test_chart_geometry_and_label(
    values: list[float | None], segments: tuple[str, ...], label: str
) -> None:
    drawn = chart(values, "n", width=10, height=10)
    assert drawn.segments == segments
    assert drawn.label == label


def test_chart_units_and_fractions_in_the_label() -> None:
    assert chart([1.25, 3.5], "p99", " ms").label == "p99: peak 3.50 ms, last 3.50 ms"


def event(stamp: int, event_id: str) -> dict[str, Any]:
    return {"timestamp": stamp, "eventId": event_id, "message": "m"}


@pytest.mark.parametrize(
    ("text", "cursor"),
    [
        ("1700000000000-3-10", (1700000000000, "3-10")),
        ("", None),
        ("abc-1-2", None),
        ("17-", None),
        ("-1-2", None),
    ],
)
def test_parse_cursor(text: str, cursor: tuple[int, str] | None) -> None:
    assert parse_cursor(text) == cursor


def test_after_cursor_keeps_only_later_events_numerically_ordered() -> None:
    events = [event(10, "1-9"), event(10, "1-10"), event(10, "2-1"), event(11, "1-1")]
    assert after_cursor(events, (10, "1-9")) == events[1:]  # 1-10 sorts after 1-9 as numbers
    assert after_cursor(events, (10, "2-1")) == events[3:]
    assert after_cursor(events, (11, "1-1")) == []
    assert after_cursor(events, None) == events


@pytest.mark.parametrize(
    ("pattern", "request_id", "expected"),
    [
        ("", "", ""),
        ("ERROR", "", "ERROR"),
        ("", "8d93-ab", '"8d93-ab"'),
        ("", ' "evil" ', '"evil"'),
        ('{ $.level = "ERROR" }', "8d93", '{ $.level = "ERROR" }'),
    ],
)
def test_pattern_for(pattern: str, request_id: str, expected: str) -> None:
    assert pattern_for(pattern, request_id) == expected


def fn(points: list[dict[str, Any]]) -> dict[str, Any]:
    return {"FunctionName": "f", "Points": points}


def test_combined_sums_counts_and_takes_the_worst_percentile() -> None:
    a = fn([{"Invocations": 1, "P99Ms": 5.0}, {"Invocations": 0, "P99Ms": None}])
    b = fn([{"Invocations": 2, "P99Ms": 9.0}, {"Invocations": 3, "P99Ms": None}])
    assert combined([a, b], "Invocations") == [3.0, 3.0]
    assert combined([a, b], "P99Ms") == [9.0, None]
    assert combined([], "Invocations") == []
