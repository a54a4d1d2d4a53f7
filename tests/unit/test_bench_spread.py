"""bench/report.py's spread over whole runs: each target's median, range and how often it was met,
and the target table that shows them."""

from __future__ import annotations

from typing import Any

from bench.report import markdown, spread


def run(measured: dict[str, float | None], limit: float = 1.0) -> dict[str, Any]:
    return {
        "targets": [
            {
                "id": ident,
                "target": f"{ident} <= {limit}",
                "measured": value,
                "limit": limit,
                "unit": "ms",
                "met": None if value is None else value <= limit,
            }
            for ident, value in measured.items()
        ]
    }


def test_the_median_range_and_met_count_of_each_target() -> None:
    runs = [run({"a": 0.9, "b": 2.0}), run({"a": 1.2, "b": None}), run({"a": 0.8, "b": 3.0})]
    out = spread(runs)
    assert out["runs"] == 3
    assert out["targets"]["a"] == {
        "median": 0.9,
        "min": 0.8,
        "max": 1.2,
        "values": [0.9, 1.2, 0.8],
        "met_in_runs": 2,
    }
    # A run that did not measure a figure does not count as a value; an even count's median is
    # the mean of the middle two.
    assert out["targets"]["b"]["values"] == [2.0, 3.0] and out["targets"]["b"]["median"] == 2.5


def test_the_target_table_shows_the_spread_only_for_several_runs() -> None:
    single = {**run({"a": 0.9}), "spread": spread([run({"a": 0.9})])}
    assert "| a <= 1.0 | 0.90 ms | yes |" in markdown(single)
    several = [run({"a": 0.7}), run({"a": 1.5}), run({"a": 0.9})]
    report = {**several[-1], "spread": spread(several)}
    table = markdown(report)
    assert "median [min-max] over 3 runs" in table
    assert "| a <= 1.0 | 0.90 ms | 0.90 [0.70-1.50] | yes |" in table
