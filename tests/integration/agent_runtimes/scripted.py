"""A runtime that echoes its event, unless the event is a JSON object with a "cmd":

headers  -> the /next headers and a few environment facts, as JSON
print    -> prints "lines" (the last one to stderr), responds "printed"
error    -> posts a function error (ValueError "boom"), header fallback type in "header"
sleep    -> sleeps "seconds", then responds "slept"
exit     -> prints, then os._exit("code")
big      -> responds with "size" bytes; remembers the status code the agent answered
probe    -> exercises Runtime API error codes; "probe_report" returns what it saw
memory   -> holds "mb" MB of touched memory, responds "held"
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from rapi import RuntimeApi

print(f"scripted runtime init pid={os.getpid()}", flush=True)
api = RuntimeApi()
seen: dict[str, object] = {}
held: list[bytearray] = []

while True:
    request_id, headers, body = api.next()
    event: Any  # any JSON; a command's fields are read only when "cmd" names one
    try:
        event = json.loads(body) if headers.get("content-type") == "application/json" else None
    except ValueError:
        event = None
    cmd = event.get("cmd") if isinstance(event, dict) else None

    if cmd == "headers":
        facts = {
            "headers": headers,
            "runtime_api": os.environ["AWS_LAMBDA_RUNTIME_API"],
            "cwd": os.getcwd(),
            "env_keys": sorted(os.environ),
            "pgid_is_pid": os.getpgid(0) == os.getpid(),
        }
        api.respond(request_id, json.dumps(facts).encode())
    elif cmd == "print":
        lines = event["lines"]
        for line in lines[:-1]:
            print(line, flush=True)
        print(lines[-1], file=sys.stderr, flush=True)
        api.respond(request_id, b'"printed"')
    elif cmd == "error":
        error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": ["line 1"]}
        payload = json.dumps(error).encode() if not event.get("header") else b"not json"
        api.error(request_id, payload, event.get("header") or "Unhandled")
    elif cmd == "sleep":
        print(f"sleeping {event['seconds']}", flush=True)
        time.sleep(event["seconds"])
        api.respond(request_id, b'"slept"')
    elif cmd == "exit":
        print(f"exiting with {event['code']}", flush=True)
        os._exit(event["code"])
    elif cmd == "big":
        seen["big_status"] = api.respond(request_id, b"x" * event["size"], "text/plain")
    elif cmd == "probe":
        from rapi import RuntimeApi as Second

        seen["second_next_id"] = Second().next()[0]  # during the invocation: the same event
        seen["wrong_id"] = api.respond("not-" + request_id, b"{}")
        seen["wrong_id_error"] = api.error("not-" + request_id, b"{}")
        seen["first"] = api.respond(request_id, b'"probed"')
        seen["second"] = api.respond(request_id, b'"again"')
        seen["error_after"] = api.error(request_id, b"{}")
        seen["init_error_late"] = api.init_error(b"{}", "Runtime.Late")
        seen["unknown_path"] = api.call("GET", "/nowhere")[0]
    elif cmd == "probe_report" or cmd == "big_report":
        api.respond(request_id, json.dumps(seen).encode())
    elif cmd == "memory":
        block = bytearray(event["mb"] * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        held.append(block)
        api.respond(request_id, b'"held"')
    else:
        api.respond(request_id, body, headers.get("content-type", "application/json"))
