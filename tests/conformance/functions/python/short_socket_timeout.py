"""User code that sets a global socket timeout: the runtime's long poll must not inherit it."""

import os
import socket

socket.setdefaulttimeout(0.2)
INVOCATIONS = 0


def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    return {"invocations": INVOCATIONS, "pid": os.getpid()}
