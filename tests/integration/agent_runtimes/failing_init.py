"""A runtime whose init fails, by INIT_MODE:

post  -> posts /init/error (errorType in the body) and exits 1, as awslambdaric does
header-> posts /init/error with a non-JSON body, the type only in the header, and exits 1
exit  -> exits 1 before its first /next, without a word to the Runtime API
hang  -> never calls /next (for the init timeout)
once  -> fails (post) when MARKER does not exist yet and creates it; then behaves as an echo
"""

from __future__ import annotations

import json
import os
import sys
import time

from rapi import RuntimeApi

mode = os.environ.get("INIT_MODE", "post")
print(f"failing_init runtime init pid={os.getpid()} mode={mode}", flush=True)
print("init trouble ahead", file=sys.stderr, flush=True)
api = RuntimeApi()

if mode == "once":
    marker = os.environ["MARKER"]
    if os.path.exists(marker):
        mode = "fine"
    else:
        open(marker, "w").close()
        mode = "post"

if mode == "post":
    error = {
        "errorMessage": "Unable to import module 'app': No module named 'app'",
        "errorType": "Runtime.ImportModuleError",
        "stackTrace": [],
    }
    api.init_error(json.dumps(error).encode(), "Runtime.ImportModuleError")
    sys.exit(1)
elif mode == "header":
    api.init_error(b"not json", "Runtime.UserCodeSyntaxError")
    sys.exit(1)
elif mode == "exit":
    sys.exit(1)
elif mode == "hang":
    time.sleep(3600)

while True:
    request_id, headers, body = api.next()
    api.respond(request_id, body)
