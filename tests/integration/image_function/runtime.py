"""A minimal runtime for an image function: it reports what the instance looks like from
inside (argv, working directory, user, capabilities, environment, writable places)."""

import json
import os
import subprocess
import sys
import urllib.request
from typing import Any

VERSION = "@VERSION@"  # replaced per build, so two builds are two different images
API = f"http://{os.environ['AWS_LAMBDA_RUNTIME_API']}/2018-06-01/runtime/invocation"


def writable(path: str) -> bool:
    try:
        with open(path, "w") as f:
            f.write("x")
        return True
    except OSError:
        return False


def runs_from_tmp() -> bool:
    """Whether a program written to /tmp can be executed, as on Lambda."""
    with open("/tmp/hello.sh", "w") as f:
        f.write("#!/bin/sh\necho ran\n")
    os.chmod("/tmp/hello.sh", 0o755)
    try:
        return subprocess.run(["/tmp/hello.sh"], capture_output=True).stdout == b"ran\n"
    except OSError:
        return False


def describe(event: dict[str, Any], count: int) -> dict[str, Any]:
    with open("/proc/self/status") as f:
        status = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
    return {
        "version": VERSION,
        "argv": sys.argv[1:],
        "cwd": os.getcwd(),
        "uid": os.getuid(),
        "gid": os.getgid(),
        "cap_eff": status["CapEff"].strip(),
        "no_new_privs": status["NoNewPrivs"].strip(),
        "root_writable": writable("/probe"),
        "app_writable": writable("/app/probe"),
        "tmp_writable": writable("/tmp/probe"),
        "tmp_executable": runs_from_tmp(),
        "env": {name: os.environ.get(name) for name in event.get("env", [])},
        "count": count,
    }


count = 0
while True:
    with urllib.request.urlopen(f"{API}/next") as answer:
        request_id = answer.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.loads(answer.read())
    count += 1
    print(f"image function {VERSION} serving {request_id}", flush=True)
    body = json.dumps(describe(event, count)).encode()
    urllib.request.urlopen(
        urllib.request.Request(f"{API}/{request_id}/response", data=body, method="POST")
    ).read()
