"""A CloudWatch Logs subset on the same server: `boto3.client("logs", endpoint_url=...)` works.

CloudWatch Logs speaks AWS JSON 1.1: `POST /` with `X-Amz-Target: Logs_20140328.<Operation>`.
Supported: DescribeLogGroups, DescribeLogStreams, GetLogEvents, FilterLogEvents,
PutRetentionPolicy, DeleteRetentionPolicy, DeleteLogGroup. Errors are `{"__type", "message"}`
with status 400, which boto3 turns into its modeled exceptions.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from ..logstore import (
    MAX_BYTES_PER_PAGE,
    MAX_EVENTS_PER_PAGE,
    FilterPattern,
    GroupNotFound,
    InvalidFilterPattern,
    LogStore,
)
from .deps import Services, services
from .log_extensions import NODE_KEY, ORIGIN_KEY, InvalidExtension, LogExtensions

router = APIRouter()

TARGET_PREFIX = "Logs_20140328."
JSON_11 = "application/x-amz-json-1.1"
RETENTION_DAYS = {
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
}


class LogsError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


def _invalid(message: str) -> LogsError:
    return LogsError("InvalidParameterException", message)


def _missing(group: str) -> LogsError:
    return LogsError(
        "ResourceNotFoundException", f"The specified log group does not exist: {group}"
    )


def _int(body: dict[str, Any], key: str, default: int | None, low: int, high: int) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise _invalid(f"{key} must be an integer between {low} and {high}.")
    return value


def _str(body: dict[str, Any], key: str, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise _invalid(
                f"1 validation error detected: Value null at '{key}' "
                "failed to satisfy constraint: Member must not be null"
            )
        return None
    if not isinstance(value, str):
        raise _invalid(f"{key} must be a string.")
    return value


def _arn(svc: Services, group: str) -> str:
    return f"arn:aws:logs:{svc.settings.region}:{svc.settings.account_id}:log-group:{group}"


# -- operations ----------------------------------------------------------------------------------


NONE = LogExtensions()


def describe_log_groups(
    svc: Services, store: LogStore, body: dict[str, Any], ext: LogExtensions = NONE
) -> dict[str, Any]:
    limit = _int(body, "limit", 50, 1, 50) or 50
    rows = store.groups(
        _str(body, "logGroupNamePrefix") or "", _str(body, "nextToken") or "", limit + 1
    )
    groups = []
    for name, created, retention, stored in rows[:limit]:
        entry: dict[str, Any] = {
            "logGroupName": name,
            "creationTime": created,
            "metricFilterCount": 0,
            "arn": _arn(svc, name) + ":*",
            "logGroupArn": _arn(svc, name),
            "storedBytes": stored,
            "logGroupClass": "STANDARD",
        }
        if retention:
            entry["retentionInDays"] = retention
        groups.append(entry)
    result: dict[str, Any] = {"logGroups": groups}
    if len(rows) > limit:
        result["nextToken"] = rows[limit - 1][0]
    return result


def describe_log_streams(
    svc: Services, store: LogStore, body: dict[str, Any], ext: LogExtensions = NONE
) -> dict[str, Any]:
    group = _str(body, "logGroupName", required=True) or ""
    limit = _int(body, "limit", 50, 1, 50) or 50
    order = body.get("orderBy", "LogStreamName")
    if order not in ("LogStreamName", "LastEventTime"):
        raise _invalid("orderBy must be LogStreamName or LastEventTime.")
    prefix = _str(body, "logStreamNamePrefix") or ""
    if prefix and order == "LastEventTime":
        raise _invalid("Cannot order by LastEventTime with a logStreamNamePrefix.")
    token = _str(body, "nextToken")
    offset = int(token) if token and token.isdigit() else 0
    rows = store.streams(
        group,
        prefix,
        order == "LastEventTime",
        bool(body.get("descending")),
        offset,
        limit + 1,
        node=ext.only_node,
    )
    streams = []
    for name, created, first_ts, last_ts, last_ingest, stored, node in rows[:limit]:
        entry: dict[str, Any] = {
            "logStreamName": name,
            "creationTime": created,
            "arn": f"{_arn(svc, group)}:log-stream:{name}",
            "storedBytes": stored,
        }
        if first_ts is not None:
            entry.update(
                firstEventTimestamp=first_ts,
                lastEventTimestamp=last_ts,
                lastIngestionTime=last_ingest,
            )
        if ext.node and node:
            entry[NODE_KEY] = node
        streams.append(entry)
    result: dict[str, Any] = {"logStreams": streams}
    if len(rows) > limit:
        result["nextToken"] = str(offset + limit)
    return result


def _page(
    rows: list[tuple[Any, ...]], limit: int, size_of: Callable[[tuple[Any, ...]], int]
) -> list[tuple[Any, ...]]:
    """At most `limit` rows and about 1 MB (at least one row)."""
    total = 0
    for i, row in enumerate(rows[:limit]):
        total += size_of(row) + 26
        if total > MAX_BYTES_PER_PAGE and i > 0:
            return rows[:i]
    return rows[:limit]


def _origin(platform: int) -> str:
    return "platform" if platform else "function"


def get_log_events(
    svc: Services, store: LogStore, body: dict[str, Any], ext: LogExtensions = NONE
) -> dict[str, Any]:
    group = _str(body, "logGroupName", required=True) or ""
    stream = _str(body, "logStreamName", required=True) or ""
    limit = _int(body, "limit", MAX_EVENTS_PER_PAGE, 1, MAX_EVENTS_PER_PAGE) or MAX_EVENTS_PER_PAGE
    start, end = _int(body, "startTime", None, 0, 2**62), _int(body, "endTime", None, 0, 2**62)
    token = _str(body, "nextToken")
    after = before = None
    if token:
        direction, _, seq = token.partition("/")
        if direction not in ("f", "b") or not seq.isdigit():
            raise _invalid("The specified nextToken is invalid.")
        if direction == "f":
            after = int(seq)
        else:
            before = int(seq)
    elif not body.get("startFromHead"):
        before = 2**62  # the most recent events, as CloudWatch does by default
    rows = store.stream_events(group, stream, start, end, after, before, limit)
    if before is not None:
        rows = rows[::-1]
        rows = _page(rows, limit, lambda r: len(r[4]))[::-1]
    else:
        rows = _page(rows, limit, lambda r: len(r[4]))
    events: list[dict[str, Any]] = [
        {"timestamp": ts, "message": message, "ingestionTime": ingest}
        for _, ts, ingest, _, message, _ in rows
    ]
    if ext.origin:
        for event, row in zip(events, rows, strict=True):
            event[ORIGIN_KEY] = _origin(row[5])
    node = store.stream_node(group, stream) if ext.node else ""
    if node:  # one stream, one instance, one node
        for event in events:
            event[NODE_KEY] = node
    if rows:
        forward, backward = f"f/{rows[-1][0]}", f"b/{rows[0][0]}"
    else:
        forward = token if token and token.startswith("f/") else f"f/{after or 0}"
        backward = token if token and token.startswith("b/") else "b/0"
        if before is not None and not token:
            forward = "f/0"
    return {"events": events, "nextForwardToken": forward, "nextBackwardToken": backward}


def filter_log_events(
    svc: Services, store: LogStore, body: dict[str, Any], ext: LogExtensions = NONE
) -> dict[str, Any]:
    group = _str(body, "logGroupName", required=True) or ""
    limit = _int(body, "limit", MAX_EVENTS_PER_PAGE, 1, MAX_EVENTS_PER_PAGE) or MAX_EVENTS_PER_PAGE
    start, end = _int(body, "startTime", None, 0, 2**62), _int(body, "endTime", None, 0, 2**62)
    names = body.get("logStreamNames")
    if names is not None and (
        not isinstance(names, list)
        or not 1 <= len(names) <= 100
        or not all(isinstance(n, str) for n in names)
    ):
        raise _invalid("logStreamNames must be a list of 1 to 100 stream names.")
    prefix = _str(body, "logStreamNamePrefix")
    if prefix and names:
        raise _invalid("logStreamNames and logStreamNamePrefix cannot both be specified.")
    if prefix:
        # (The node, if asked for, is filtered once, by filter_events below.)
        names = [row[0] for row in store.streams(group, prefix, limit=10_000)] or ["\0none"]
    try:
        pattern = FilterPattern.parse(_str(body, "filterPattern"))
    except InvalidFilterPattern as exc:
        raise _invalid(str(exc)) from None
    token = _str(body, "nextToken")
    after = None
    if token:
        try:
            ts, stream_id, seq = (int(p) for p in token.split("-"))
        except ValueError:
            raise _invalid("The specified nextToken is invalid.") from None
        after = (ts, stream_id, seq)
    rows = store.filter_events(
        group, names, start, end, pattern, after, limit + 1, node=ext.only_node
    )
    page = _page(rows, limit, lambda r: len(r[6]))
    events = [
        {
            "logStreamName": stream,
            "timestamp": ts,
            "message": message,
            "ingestionTime": ingest,
            "eventId": f"{stream_id}-{seq}",
        }
        | ({ORIGIN_KEY: _origin(platform)} if ext.origin else {})
        | ({NODE_KEY: node} if ext.node and node else {})
        for ts, stream_id, seq, stream, ingest, _, message, platform, node in page
    ]
    result: dict[str, Any] = {"events": events, "searchedLogStreams": []}
    if len(rows) > len(page):
        last = page[-1]
        result["nextToken"] = f"{last[0]}-{last[1]}-{last[2]}"
    return result


def put_retention_policy(
    svc: Services, store: LogStore, body: dict[str, Any], ext: LogExtensions = NONE
) -> dict[str, Any]:
    group = _str(body, "logGroupName", required=True) or ""
    days = body.get("retentionInDays")
    if days not in RETENTION_DAYS:
        raise _invalid(f"retentionInDays must be one of {sorted(RETENTION_DAYS)}.")
    store.set_retention(group, days)
    return {}


def delete_retention_policy(
    svc: Services, store: LogStore, body: dict[str, Any], ext: LogExtensions = NONE
) -> dict[str, Any]:
    store.set_retention(_str(body, "logGroupName", required=True) or "", None)
    return {}


def delete_log_group(
    svc: Services, store: LogStore, body: dict[str, Any], ext: LogExtensions = NONE
) -> dict[str, Any]:
    store.delete_group(_str(body, "logGroupName", required=True) or "")
    return {}


OPERATIONS: dict[
    str, Callable[[Services, LogStore, dict[str, Any], LogExtensions], dict[str, Any]]
] = {
    "DescribeLogGroups": describe_log_groups,
    "DescribeLogStreams": describe_log_streams,
    "GetLogEvents": get_log_events,
    "FilterLogEvents": filter_log_events,
    "PutRetentionPolicy": put_retention_policy,
    "DeleteRetentionPolicy": delete_retention_policy,
    "DeleteLogGroup": delete_log_group,
}


def _error(status: int, kind: str, message: str) -> Response:
    return JSONResponse(
        {"__type": kind, "message": message}, status_code=status, media_type=JSON_11
    )


@router.post("/")
async def logs_api(request: Request, svc: Services = Depends(services)) -> Response:
    target = request.headers.get("x-amz-target", "")
    if not target.startswith(TARGET_PREFIX):
        return _error(
            400,
            "UnknownOperationException",
            f"Unknown target {target!r}: this endpoint speaks CloudWatch Logs.",
        )
    operation = OPERATIONS.get(target[len(TARGET_PREFIX) :])
    if operation is None:
        return _error(
            400,
            "UnknownOperationException",
            f"{target[len(TARGET_PREFIX) :]} is not supported by Lambkin.",
        )
    try:
        raw = await request.body()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("not an object")
    except ValueError:
        return _error(400, "SerializationException", "The request body is not a JSON object.")
    store = svc.observability.store
    try:
        ext = LogExtensions.of(request.headers)
    except InvalidExtension as exc:
        return _error(400, "InvalidParameterException", str(exc))

    def call() -> dict[str, Any]:
        return operation(svc, store, body, ext)

    try:
        result = await _in_thread(call)
    except LogsError as exc:
        return _error(400, exc.kind, exc.message)
    except GroupNotFound as exc:
        return _error(
            400,
            "ResourceNotFoundException",
            f"The specified log group does not exist: {exc.args[0]}",
        )
    return Response(json.dumps(result), media_type=JSON_11)


def _in_thread(call: Callable[[], dict[str, Any]]) -> Awaitable[dict[str, Any]]:
    return asyncio.to_thread(call)
