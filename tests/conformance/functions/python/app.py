"""Handler for the Python runtime client conformance tests.

One handler, `app.handler`; the event's "op" picks the scenario, and an event without one is
echoed back. Module-level state lives as long as the runtime process.
"""

import logging
import os
import sys
import tempfile
import time

INVOCATIONS = 0
IMPORTED_AT = time.time()


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    if isinstance(event, dict) and "op" in event:
        return OPS[event["op"]](event, context)
    return event


def context_fields(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    second = context.get_remaining_time_in_millis()
    client = context.client_context.client if context.client_context else None
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": [first, second],
        "cognito_identity_id": context.identity.cognito_identity_id,
        "cognito_identity_pool_id": context.identity.cognito_identity_pool_id,
        "client_installation_id": client.installation_id if client else None,
        "client_app_title": client.app_title if client else None,
        "client_custom": context.client_context.custom if context.client_context else None,
        "client_env": context.client_context.env if context.client_context else None,
        "environ": {
            name: os.environ.get(name)
            for name in (
                "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_LAMBDA_FUNCTION_VERSION",
                "AWS_LAMBDA_LOG_GROUP_NAME",
                "AWS_LAMBDA_LOG_STREAM_NAME",
            )
        },
    }


def count(event, context):
    return {"invocations": INVOCATIONS, "imported_at": IMPORTED_AT, "pid": os.getpid()}


def fail(event, context):
    def deeper(message):
        raise ValueError(message)

    deeper(event["message"])


def unserialisable(event, context):
    return {"a set": {1, 2}}


def say(event, context):
    print(event["line"])
    print(event["err_line"], file=sys.stderr)
    return {"said": True, "request_id": context.aws_request_id}


def log(event, context):
    logging.warning(event["message"])
    logging.getLogger("app.sub").error("first line\nsecond line")
    logging.info("below the default WARNING level: not printed")
    return context.aws_request_id


def tmp_write(event, context):
    path = os.path.join(tempfile.gettempdir(), event["name"])
    with open(path, "w") as out:
        out.write(event["content"])
    return path


def tmp_read(event, context):
    with open(os.path.join(tempfile.gettempdir(), event["name"])) as src:
        return src.read()


def trace(event, context):
    return {"_X_AMZN_TRACE_ID": os.environ.get("_X_AMZN_TRACE_ID")}


def big(event, context):
    return "x" * event["size"]


def raw_bytes(event, context):
    return b"raw \x00 bytes"


def event_type(event, context):
    return type(event).__name__


OPS = {
    "context": context_fields,
    "count": count,
    "fail": fail,
    "unserialisable": unserialisable,
    "say": say,
    "log": log,
    "tmp_write": tmp_write,
    "tmp_read": tmp_read,
    "trace": trace,
    "big": big,
    "raw_bytes": raw_bytes,
    "event_type": event_type,
}
