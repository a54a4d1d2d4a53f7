"""Metrics and traces: `/metrics` (Prometheus text format) and recent traces as JSON."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Response
from prometheus_client import CONTENT_TYPE_LATEST

from ..metric_history import KEEP_MINUTES, render_point, render_summary
from ..tracing import parse_traceparent, parse_xray
from .deps import Services, services

router = APIRouter()


@router.get("/metrics")
async def metrics(svc: Services = Depends(services)) -> Response:
    return Response(svc.observability.metrics.render(), media_type=CONTENT_TYPE_LATEST)


@router.get("/lambkin/metrics/history")
async def metric_history(
    function: str | None = None, minutes: int = 60, svc: Services = Depends(services)
) -> dict[str, Any]:
    """Each function's last `minutes` (1-180), minute by minute: what the console charts."""
    minutes = max(1, min(minutes, KEEP_MINUTES))
    history = svc.observability.metrics.history
    names = [function] if function is not None else history.functions()
    return {
        "Minutes": minutes,
        "Functions": [
            {
                "FunctionName": name,
                "Summary": render_summary(history.summary(name, minutes)),
                "Points": [render_point(p) for p in history.series(name, minutes)],
            }
            for name in names
        ],
    }


@router.get("/lambkin/traces")
async def recent_traces(
    function: str | None = None, limit: int = 50, svc: Services = Depends(services)
) -> dict[str, Any]:
    """The most recent invocation traces (newest first), optionally of one function."""
    return {"Traces": svc.observability.tracing.recent.recent(max(1, min(limit, 1000)), function)}


@router.get("/lambkin/traces/{trace_id}")
async def get_trace(trace_id: str, svc: Services = Depends(services)) -> dict[str, Any]:
    """One trace's spans; the id in 32 hex digits, as an X-Ray root (1-xxxxxxxx-...) or a header."""
    context = parse_xray(
        trace_id if "Root=" in trace_id else f"Root={trace_id}"
    ) or parse_traceparent(f"00-{trace_id}-0000000000000001-01")
    if context is None:
        raise HTTPException(400, "not a trace id")
    spans = svc.observability.tracing.recent.trace(context.trace_id)
    if spans is None:
        raise HTTPException(404, "no such trace among the recent ones")
    return {"TraceId": f"{context.trace_id:032x}", "Spans": spans}
