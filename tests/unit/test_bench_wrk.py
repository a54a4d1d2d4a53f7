"""The wrk section of the benchmark: its output line read, its rows in the table, its checks."""

from __future__ import annotations

from typing import Any

import pytest

from bench import report, wrk

LINE = (
    'WRK_JSON {"requests": 1000, "duration_us": 1000000, "bytes": 200000, "not_200": 3, '
    '"not_200_statuses": {"500": 2, "429": 1}, "socket_errors": {"connect": 0, "read": 1, '
    '"write": 0, "timeout": 0}, "latency_us": {"p50": 900, "p90": 1400, "p95": 1700, '
    '"p99": 3600, "p99_9": 11000, "min": 500, "max": 12000, "mean": 1000.5, "stdev": 800.0}}'
)


def test_the_json_line_is_found_among_wrks_own_output() -> None:
    run = wrk.WrkRun(wrk.parse(f"Running 1s test @ http://x\n  1 threads\n{LINE}\n"), 0.05)
    assert run.ok == 997
    assert run.seconds == 1.0
    assert run.errors == {"500": 2, "429": 1, "socket read": 1}
    latency = run.latency_ms()
    assert (latency["p50_ms"], latency["p99_ms"], latency["p99_9_ms"]) == (0.9, 3.6, 11.0)


def test_output_without_the_line_is_an_error_that_shows_the_output() -> None:
    with pytest.raises(RuntimeError, match="unable to connect"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def _figures(per_s: float) -> dict[str, Any]:
    return {
        "per_s": per_s,
        "latency": {"p50_ms": 1.0, "p95_ms": 2.0, "p99_ms": 3.0},
        "cpu_ms_per_invocation": {"loadgen": 0.045},
    }


def _wrk_section() -> dict[str, Any]:
    lk, ref = _figures(1000.0), _figures(1500.0)
    return {
        "concurrencies": [1, 8],
        "warm_latency": {
            "lambkin_process": lk["latency"],
            "rie_host": ref["latency"],
            "ratios": {"lambkin_process/rie_host": {"p50": 1.0, "p95": 1.0, "p99": 1.0}},
        },
        "throughput": {
            "lambkin_process": {"1": lk, "8": _figures(900.0)},
            "rie_host": {"1": ref},
            "ratios": {"lambkin_process@1/rie_host@1": 0.667},
        },
    }


def test_the_rows_stand_beside_the_built_in_ones() -> None:
    table = report.markdown({"groups": ["process"], "wrk": _wrk_section()})
    assert "| warm invoke p50, 100 B, 1 connection, wrk | n/a | n/a | n/ax | 1.00 | 1.00 |" in table
    assert "| throughput, invocations/s, concurrency 8, wrk |" in table
    assert "| throughput, invocations/s, concurrency 1, wrk | n/a | n/a |  | 1000 | 1500 |" in table


def _wrk_problems(doc: dict[str, Any]) -> list[str]:
    return [problem for problem in report.validate(doc) if "wrk" in problem]


def test_every_wrk_figure_is_checked_or_the_reason_it_is_missing_given() -> None:
    assert _wrk_problems({"groups": ["process"], "wrk": _wrk_section()}) == []
    broken = _wrk_section()
    del broken["throughput"]["lambkin_process"]["8"]
    assert _wrk_problems({"groups": ["process"], "wrk": broken}) == [
        "missing figure: wrk.throughput.lambkin_process.8.per_s",
        "missing figure: wrk.throughput.lambkin_process.8.cpu_ms_per_invocation.loadgen",
    ]
    skipped = {"groups": ["process"], "wrk": {"skipped": "no `wrk` on PATH"}}
    assert _wrk_problems(skipped) == []
    assert "wrk figures: not measured (no `wrk` on PATH)." in report.markdown(skipped)
    assert _wrk_problems({"groups": ["process"]}) == ["missing section: wrk"]
