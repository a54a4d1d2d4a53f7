"""The conformance app: one operation per event["op"] (see tests/conformance/test_runtimes.py)."""

import decimal
import os
import sys
import time

INVOCATIONS = 0
STARTED_AT = time.time()


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    op = event.get("op") if isinstance(event, dict) else None
    if op == "types":
        return [b"raw bytes".decode(), decimal.Decimal("1.5"), None, True, (1, 2)]
    if op == "context":
        return {
            "awsRequestId": context.aws_request_id,
            "functionName": context.function_name,
            "functionVersion": context.function_version,
            "memoryLimitInMB": str(context.memory_limit_in_mb),
            "invokedFunctionArn": context.invoked_function_arn,
            "logGroupName": context.log_group_name,
            "logStreamName": context.log_stream_name,
            "remainingMs": context.get_remaining_time_in_millis(),
        }
    if op == "env":
        return {name: os.environ.get(name) for name in event["names"]}
    if op == "tmp":
        path = os.path.join("/tmp", event["name"])
        with open(path, "w", encoding="utf-8") as out:
            out.write(event["text"])
        with open(path, encoding="utf-8") as back:
            text = back.read()
        os.remove(path)
        return {"text": text}
    if op == "count":
        return {"invocations": INVOCATIONS, "pid": os.getpid(), "startedAt": STARTED_AT}
    if op == "fail":
        raise ValueError(event["message"])
    if op == "sleep":
        time.sleep(event["seconds"])
        return "woke up"
    if op == "exit":
        sys.stdout.flush()
        os._exit(3)
    if op == "log":
        print(f"to stdout {event['marker']}")
        print(f"to stderr {event['marker']}", file=sys.stderr)
        return "logged"
    return event
