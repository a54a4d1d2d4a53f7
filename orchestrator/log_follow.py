"""`lambkin logs`: read a function's log group over the CloudWatch Logs API, optionally following.

Stdlib HTTP (the CLI must not need boto3), signed as the AWS CLI signs (client_signing.py).
Following polls FilterLogEvents a few times a second with a short look-back window, since events
from several instances may be stored slightly out of time order; event ids already printed are
skipped.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from .client_signing import signed_headers
from .log_names import log_group_name

POLL_S = 0.2
LOOKBACK_MS = 10_000
_SINCE = re.compile(r"^(\d+)([smhdw]?)$")
_UNITS_MS = {"": 1000, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def parse_since(text: str, now_ms: int | None = None) -> int:
    """`10m`, `2h`, `30s`, `1d` -> epoch ms that long ago."""
    match = _SINCE.match(text.strip())
    if not match:
        raise ValueError(
            f"--since: expected a number with s, m, h, d or w (e.g. 10m), not {text!r}"
        )
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    return now_ms - int(match[1]) * _UNITS_MS[match[2]]


def filter_events(endpoint: str, body: dict[str, Any], node: str | None = None) -> dict[str, Any]:
    url = endpoint.rstrip("/") + "/"
    data = json.dumps(body).encode()
    headers = {
        "X-Amz-Target": "Logs_20140328.FilterLogEvents",
        "Content-Type": "application/x-amz-json-1.1",
        # Say which lines the platform wrote: a function can print a perfect fake REPORT.
        "Lambkin-Log-Origin": "include",
        # And where each instance ran, on a driver of several machines (api/log_extensions.py).
        "Lambkin-Log-Node": "include",
    }
    if node:
        headers["Lambkin-Log-Node-Filter"] = node
    signed = signed_headers("POST", url, data, headers, "logs")
    request = urllib.request.Request(url, data=data, method="POST", headers=signed)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            page: dict[str, Any] = json.loads(response.read())
            return page
    except urllib.error.HTTPError as exc:
        error = json.loads(exc.read() or b"{}")
        if error.get("__type") == "ResourceNotFoundException":
            return {"events": []}  # no log yet: nothing was printed
        raise RuntimeError(f"{error.get('__type', exc.code)}: {error.get('message', '')}") from None


def events(
    endpoint: str,
    function: str,
    start_ms: int | None,
    request_id: str | None,
    node: str | None = None,
) -> Iterator[dict[str, Any]]:
    body: dict[str, Any] = {"logGroupName": log_group_name(function)}
    if start_ms is not None:
        body["startTime"] = start_ms
    if request_id:
        body["filterPattern"] = f'"{request_id}"'
    while True:
        page = filter_events(endpoint, body, node)
        yield from page.get("events", [])
        if not page.get("nextToken"):
            return
        body["nextToken"] = page["nextToken"]


def format_event(event: dict[str, Any]) -> str:
    stamp = (
        time.strftime("%H:%M:%S", time.gmtime(event["timestamp"] / 1000))
        + f".{event['timestamp'] % 1000:03d}"
    )
    instance = event.get("logStreamName", "").rpartition("]")[2][:8]
    origin = event.get("lambkinOrigin", "function")
    node = event.get("lambkinNode")
    where = f"{node}/{instance}" if node else instance
    return f"{stamp} {where} {origin:<8} {event['message']}"


def run(
    endpoint: str,
    function: str,
    since_ms: int | None,
    request_id: str | None,
    follow: bool,
    emit: Callable[[str], None],
    stop: Callable[[], bool] = lambda: False,
    node: str | None = None,
) -> None:
    seen: dict[str, int] = {}  # event id -> timestamp, within the look-back window
    newest = since_ms or 0
    start = since_ms
    while True:
        for event in events(endpoint, function, start, request_id, node):
            if event["eventId"] in seen:
                continue
            seen[event["eventId"]] = event["timestamp"]
            newest = max(newest, event["timestamp"])
            emit(format_event(event))
        if not follow or stop():
            return
        start = max(since_ms or 0, newest - LOOKBACK_MS)
        seen = {k: ts for k, ts in seen.items() if ts >= start}
        time.sleep(POLL_S)
