"""Small charts as inline SVG, computed on the server: no chart library, nothing to download,
readable by screen readers through the summary each chart carries in its label.

Pure geometry: values (None where there was nothing to measure) in, polyline segments out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    segments: tuple[str, ...]  # SVG polyline `points` strings; a gap (None) splits the line
    peak: float  # the value at the top of the chart
    label: str  # what a screen reader says: the series' name, its peak and its last value


def chart(
    values: Sequence[float | None], name: str, unit: str = "", width: int = 120, height: int = 28
) -> Chart:
    known = [v for v in values if v is not None]
    peak = max(known, default=0.0)
    scale = peak if peak > 0 else 1.0
    step = width / max(1, len(values) - 1)
    segments: list[str] = []
    current: list[str] = []

    def close() -> None:
        if len(current) == 1:  # a lone minute: drawn as a dot (round caps on a zero-length line)
            current.append(current[0])
        if current:
            segments.append(" ".join(current))
        current.clear()

    for index, value in enumerate(values):
        if value is None:
            close()
            continue
        x = index * step
        y = height - 1 - (value / scale) * (height - 2)  # 1px margins: a flat zero line shows
        current.append(f"{x:.1f},{y:.1f}")
    close()
    last = next((v for v in reversed(values) if v is not None), None)
    label = f"{name}: peak {_figure(peak)}{unit}, last {_figure(last)}{unit}"
    return Chart(width, height, tuple(segments), peak, label)


def _figure(value: float | None) -> str:
    if value is None:
        return "none"
    return f"{value:.0f}" if value >= 100 or float(value).is_integer() else f"{value:.2f}"
