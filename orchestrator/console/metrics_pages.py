"""The Metrics page: invocations, errors, throttles, duration p50 / p99, cold starts and
concurrency over the last hours, for one function or all, from the platform's own figures
(`/lambkin/metrics/history`), drawn as inline SVG; it refreshes every ten seconds."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from .api_client import ApiError
from .charts import Chart, chart
from .web import PREFIX, Page, error_text, page

router = APIRouter(prefix=PREFIX)
CurrentPage = Annotated[Page, Depends(page)]
WINDOWS = {"1h": 60, "3h": 180}
# (field of a point, title, unit): the charts of the page, in order
SERIES = (
    ("Invocations", "Invocations", ""),
    ("Errors", "Errors", ""),
    ("Throttles", "Throttles", ""),
    ("P50Ms", "Duration p50", " ms"),
    ("P99Ms", "Duration p99", " ms"),
    ("ColdStarts", "Cold starts", ""),
    ("MaxConcurrency", "Concurrency (peak)", ""),
)
_SUMMED = frozenset({"Invocations", "Errors", "Throttles", "ColdStarts", "MaxConcurrency"})


async def history(current: Page, minutes: int, function: str = "") -> list[dict[str, Any]]:
    query = f"?minutes={minutes}" + (f"&function={quote(function, safe='')}" if function else "")
    found = await current.api.call("GET", "/lambkin/metrics/history" + query)
    functions: list[dict[str, Any]] = found.get("Functions", [])
    return functions


def combined(functions: list[dict[str, Any]], key: str) -> list[float | None]:
    """One series over all functions: counts add up; a percentile is the worst function's
    (percentiles do not add, and the worst is what a team looks for)."""
    if not functions:
        return []
    length = min(len(f["Points"]) for f in functions)
    out: list[float | None] = []
    for index in range(length):
        values = [f["Points"][index][key] for f in functions]
        known = [float(v) for v in values if v is not None]
        if key in _SUMMED:
            out.append(sum(known))
        else:
            out.append(max(known) if known else None)
    return out


def charts_for(functions: list[dict[str, Any]]) -> list[tuple[str, Chart]]:
    return [
        (title, chart(combined(functions, key), title, unit, width=560, height=90))
        for key, title, unit in SERIES
    ]


@router.get("/metrics", response_class=HTMLResponse)
async def metrics(current: CurrentPage, function: str = "", window: str = "1h") -> Response:
    function = function[:170]
    window = window if window in WINDOWS else "1h"
    template = (
        "metrics_charts.html" if current.request.headers.get("hx-request") else "metrics.html"
    )
    try:
        functions = await history(current, WINDOWS[window], function)
    except ApiError as error:
        return current.error(error.status, error_text(error))
    return current.render(
        template,
        section="metrics",
        function=function,
        window=window,
        windows=list(WINDOWS),
        charts=charts_for(functions),
        names=[f["FunctionName"] for f in functions],
    )
