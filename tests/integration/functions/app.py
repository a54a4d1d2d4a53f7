"""Handlers for the end-to-end tests; each test names the one it deploys."""

import os
import socket
import time

counter = 0  # survives between invocations of one instance
IMPORTED_AT = time.time()


def echo(event, context):
    return event


def count(event, context):
    global counter
    counter += 1
    return {
        "counter": counter,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "imported_at": IMPORTED_AT,
    }


def fail(event, context):
    raise ValueError("something broke: " + str(event.get("why", "no reason")))


def sleep(event, context):
    time.sleep(event.get("seconds", 10))
    return "woke up"


def exit3(event, context):
    if event.get("exit"):
        print("exiting now", flush=True)
        os._exit(3)
    return "still alive"


def context_info(event, context):
    first = context.get_remaining_time_in_millis()
    time.sleep(0.05)
    second = context.get_remaining_time_in_millis()
    print(f"context probe for {context.aws_request_id}")
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining": [first, second],
        "client_context_custom": getattr(context.client_context, "custom", None)
        if context.client_context
        else None,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
        "env": {
            k: os.environ.get(k)
            for k in (
                "AWS_LAMBDA_FUNCTION_NAME",
                "AWS_REGION",
                "LAMBDA_TASK_ROOT",
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            )
        },
    }


def env(event, context):
    return {name: os.environ.get(name) for name in event["names"]}


def tmp(event, context):
    path = "/tmp/lambkin-test-" + event["key"]
    if event.get("write"):
        with open(path, "w") as out:
            out.write(event["write"])
    with open(path) as source:
        return {"content": source.read()}


def version(event, context):
    return "v1"


def big_response(event, context):
    return "x" * event["size"]
