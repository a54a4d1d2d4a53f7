"""Handlers for the logs, metrics and tracing tests."""

import os
import sys
import time

print("init: module imported")


def three_lines(event, context):
    time.sleep(event.get("sleep", 0))
    print("first line")
    print("second line", file=sys.stderr)
    print("third line")
    return "ok"


def print_then(event, context):
    """Print a marker, then die the way the event says."""
    print(event["marker"], flush=True)
    how = event.get("then")
    if how == "exit":
        os._exit(1)
    if how == "sleep":
        time.sleep(event.get("seconds", 30))
    if how == "oom":
        hog = []
        while True:
            hog.append(b"x" * (16 * 1024 * 1024))
    return "done"


def flood(event, context):
    """`lines` lines of `width` bytes each (plus the newline)."""
    line = "y" * (event["width"] - 8)
    write = sys.stdout.write
    for i in range(event["lines"]):
        write(f"{i:07d} {line}\n")
    sys.stdout.flush()
    return event["lines"]


held = []


def allocate(event, context):
    held.append(b"m" * (event.get("mb", 0) * 1024 * 1024))
    return sum(len(h) for h in held) // (1024 * 1024)


def trace_env(event, context):
    return {"env": os.environ.get("_X_AMZN_TRACE_ID")}


def maybe_fail(event, context):
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    return "fine"


_cold = [True]


def structured(event, context):
    """JSON lines as AWS Lambda Powertools' Logger prints them, one per entry of `event`."""
    import json

    for level, message, extra in event["records"]:
        record = {
            "level": level,
            "location": "structured:80",
            "message": message,
            "timestamp": "2026-12-01 10:00:00,000+0000",
            "service": "payments",
            "cold_start": _cold[0],
            "function_name": context.function_name,
            "function_memory_size": context.memory_limit_in_mb,
            "function_request_id": context.aws_request_id,
            "xray_trace_id": None,
        }
        record.update(extra)
        print(json.dumps(record), flush=True)
    _cold[0] = False
    return len(event["records"])


def log_levels(event, context):
    """One record per level through `logging`, and a print; says where its logs go."""
    import logging

    log = logging.getLogger("fn")
    log.debug("debug record")
    log.info("info record", extra={"order": 7})
    log.warning("warn record")
    log.error("error record")
    print("printed line")
    return os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
