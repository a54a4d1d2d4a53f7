"""Summaries of latency samples: percentiles and the run's spread, in milliseconds."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

PERCENTILES = (50, 90, 95, 99, 99.9)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is a latency that happened)."""
    if not sorted_values:
        return math.nan
    rank = math.ceil(p / 100 * len(sorted_values))
    return float(sorted_values[min(max(rank, 1), len(sorted_values)) - 1])


def _key(p: float) -> str:
    return f"p{p:g}".replace(".", "_")


def summarize_ms(
    samples_ms: Sequence[float], rounds: Sequence[Sequence[float]] = ()
) -> dict[str, Any]:
    """Percentiles, mean, min/max, stdev and IQR; with `rounds`, the range of the rounds' p50/p99.

    `rounds` are the same measurement repeated (interleaved with the reference's); their spread
    says how much of a difference between two targets is noise.
    """
    values = sorted(samples_ms)
    out: dict[str, Any] = {"count": len(values)}
    if not values:
        return out
    for p in PERCENTILES:
        out[f"{_key(p)}_ms"] = round(percentile(values, p), 4)
    out.update(
        mean_ms=round(statistics.fmean(values), 4),
        min_ms=round(values[0], 4),
        max_ms=round(values[-1], 4),
        stdev_ms=round(statistics.pstdev(values), 4) if len(values) > 1 else 0.0,
        iqr_ms=round(percentile(values, 75) - percentile(values, 25), 4),
    )
    nonempty = [sorted(r) for r in rounds if r]
    if len(nonempty) > 1:
        p50s = [percentile(r, 50) for r in nonempty]
        p99s = [percentile(r, 99) for r in nonempty]
        out["rounds"] = len(nonempty)
        out["round_p50_range_ms"] = [round(min(p50s), 4), round(max(p50s), 4)]
        out["round_p99_range_ms"] = [round(min(p99s), 4), round(max(p99s), 4)]
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return None
    return round(a / b, 3)


def ratios(
    a: dict[str, Any], b: dict[str, Any], keys: Sequence[str] = ("p50_ms", "p95_ms", "p99_ms")
) -> dict[str, Any]:
    return {key.removesuffix("_ms"): ratio(a.get(key), b.get(key)) for key in keys}
