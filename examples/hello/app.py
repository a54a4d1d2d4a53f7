"""Example function: greets, and counts invocations served by this instance."""

import os

invocations = 0  # module-level state survives between invocations of a warm instance


def handler(event, context):
    global invocations
    invocations += 1
    name = event.get("name", "world")
    print(f"greeting {name} (invocation {invocations} of this instance)")
    return {
        "message": f"{os.environ.get('GREETING', 'Hello')}, {name}!",
        "invocations_on_this_instance": invocations,
        "request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
