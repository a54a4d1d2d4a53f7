"""The Logs page: a function's log events with CloudWatch filter patterns or one request id,
and following: while "Follow" is on, htmx asks every second for the events after the last one
shown, and appends them.

The cursor is the last event shown as `<timestamp>-<event id>`; events are read with
FilterLogEvents from that timestamp on and those at or before the cursor are dropped, so none is
shown twice. (An event stored later with an older timestamp than the cursor is not shown while
following; reloading the page shows it.)
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from ..log_names import log_group_name
from .api_client import ApiError, function_path
from .web import PREFIX, Page, error_text, page

router = APIRouter(prefix=PREFIX)
CurrentPage = Annotated[Page, Depends(page)]

PAGE_EVENTS = 200
SINCE_CHOICES = {"5m": 300, "15m": 900, "1h": 3600, "6h": 21_600, "24h": 86_400}


def cursor_of(event: dict[str, Any]) -> tuple[int, str]:
    return int(event["timestamp"]), str(event["eventId"])


def parse_cursor(text: str) -> tuple[int, str] | None:
    stamp, sep, event_id = text.partition("-")
    if not sep or not stamp.isdigit() or not event_id:
        return None
    return int(stamp), event_id


def after_cursor(
    events: list[dict[str, Any]], cursor: tuple[int, str] | None
) -> list[dict[str, Any]]:
    """The events strictly after `cursor` in (timestamp, event id) order: FilterLogEvents'
    own order, so what follows a page is what comes after its last event."""
    if cursor is None:
        return events
    return [e for e in events if _order(cursor_of(e)) > _order(cursor)]


def _order(cursor: tuple[int, str]) -> tuple[int, tuple[int, ...]]:
    """Event ids are `<stream id>-<sequence>`: compared as numbers, not as text."""
    stamp, event_id = cursor
    try:
        parts = tuple(int(p) for p in event_id.split("-"))
    except ValueError:
        parts = ()
    return stamp, parts


def pattern_for(filter_pattern: str, request_id: str) -> str:
    """A request id alone becomes a quoted term (its START, END, REPORT and stamped lines);
    with a pattern too, the pattern wins and the request id narrows afterwards."""
    if filter_pattern.strip():
        return filter_pattern.strip()
    if request_id.strip():
        return '"' + request_id.strip().replace('"', "") + '"'
    return ""


async def _group_of(current: Page, function: str) -> str:
    """The function's log group: its LoggingConfig's, or /aws/lambda/<name>."""
    config = await current.api.call("GET", function_path(function, "/configuration"))
    return str((config.get("LoggingConfig") or {}).get("LogGroup") or log_group_name(function))


async def _events(
    current: Page, function: str, filter_pattern: str, request_id: str, start_ms: int
) -> list[dict[str, Any]]:
    body: dict[str, Any] = {
        "logGroupName": await _group_of(current, function),
        "startTime": start_ms,
        "limit": PAGE_EVENTS,
    }
    pattern = pattern_for(filter_pattern, request_id)
    if pattern:
        body["filterPattern"] = pattern
    try:
        found = await current.api.logs("FilterLogEvents", body)
    except ApiError as error:
        if error.error_type == "ResourceNotFoundException":
            return []  # nothing logged yet
        raise
    events: list[dict[str, Any]] = found.get("events", [])
    if request_id.strip() and filter_pattern.strip():
        events = [e for e in events if request_id.strip() in e.get("message", "")]
    return events


@router.get("/logs", response_class=HTMLResponse)
async def logs(
    current: CurrentPage,
    function: str = "",
    filter_pattern: str = "",
    request_id: str = "",
    since: str = "15m",
    follow: bool = False,
) -> Response:
    function, filter_pattern, request_id = function[:170], filter_pattern[:1024], request_id[:64]
    since = since if since in SINCE_CHOICES else "15m"
    events: list[dict[str, Any]] = []
    error = ""
    if function:
        start_ms = int((time.time() - SINCE_CHOICES[since]) * 1000)
        try:
            events = await _events(current, function, filter_pattern, request_id, start_ms)
        except ApiError as refused:
            error = error_text(refused)
    return current.render(
        "logs.html",
        section="logs",
        function=function,
        filter_pattern=filter_pattern,
        request_id=request_id,
        since=since,
        since_choices=list(SINCE_CHOICES),
        follow=follow,
        events=events,
        cursor=_cursor_text(events, ""),
        error=error,
    )


@router.get("/logs/more", response_class=HTMLResponse)
async def more_logs(
    current: CurrentPage,
    function: str,
    after: str = "",
    filter_pattern: str = "",
    request_id: str = "",
) -> Response:
    """What following appends: the events after the cursor, and the new cursor (out of band)."""
    function, filter_pattern, request_id = function[:170], filter_pattern[:1024], request_id[:64]
    cursor = parse_cursor(after)
    start_ms = cursor[0] if cursor else int((time.time() - 60) * 1000)
    try:
        events = after_cursor(
            await _events(current, function, filter_pattern, request_id, start_ms), cursor
        )
    except ApiError as refused:
        return current.render("logs_more.html", events=[], cursor=after, error=error_text(refused))
    return current.render(
        "logs_more.html", events=events, cursor=_cursor_text(events, after), error=""
    )


def _cursor_text(events: list[dict[str, Any]], previous: str) -> str:
    if not events:
        return previous
    stamp, event_id = cursor_of(events[-1])
    return f"{stamp}-{event_id}"
