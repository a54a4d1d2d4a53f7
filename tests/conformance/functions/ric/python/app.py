"""The RIC contract handler (see tests/support/function_images.py), for AWS's awslambdaric."""

import os
import time

count = 0


def handler(event, context):
    global count
    count += 1
    action = event.get("action") if isinstance(event, dict) else None
    if action == "error":
        raise RuntimeError(event["message"])
    if action == "sleep":
        time.sleep(event["seconds"])
        return {"slept": event["seconds"]}
    print("hello from python", flush=True)
    return {
        "event": event,
        "count": count,
        "uid": os.getuid(),
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "memory_limit_in_mb": int(context.memory_limit_in_mb),
            "aws_request_id": context.aws_request_id,
            "invoked_function_arn": context.invoked_function_arn,
            "log_group_name": context.log_group_name,
            "log_stream_name": context.log_stream_name,
            "remaining_time_ms": context.get_remaining_time_in_millis(),
        },
        "env": {
            name: os.environ.get(name)
            for name in ("AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "LAMBDA_TASK_ROOT")
        },
    }
