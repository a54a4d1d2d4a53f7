"""Streamed responses are new input to the agent from the function's side: a runtime that
streams without end is cut off at AWS's 200 MiB (Function.ResponseSizeTooLarge), one that sends
a malformed chunk size or trailers past the agent's budget is refused (Runtime.TruncatedResponse);
each time the caller gets a clean InvokeComplete and the same agent serves the next invocation."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.security.hostile import instance_of
from tests.support.server import Client, Server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

MAX_STREAMED = 200 * 1024 * 1024

BOOTSTRAP = r"""#!/usr/bin/env python3
import json, os, socket, urllib.request

host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
base = f"http://{host}:{port}/2018-06-01/runtime/invocation"
while True:
    with urllib.request.urlopen(f"{base}/next") as answer:
        rid = answer.headers["Lambda-Runtime-Aws-Request-Id"]
        mode = json.loads(answer.read())["mode"]
    s = socket.create_connection((host, int(port)))
    s.sendall(
        f"POST /2018-06-01/runtime/invocation/{rid}/response HTTP/1.1\r\nHost: rapi\r\n"
        "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n".encode()
    )
    try:
        if mode == "bad-size":
            s.sendall(b"zz\r\nnot a size\r\n")
        elif mode == "huge-trailers":
            s.sendall(b"0\r\nX-Pad: " + b"y" * 70000 + b"\r\n\r\n")
        elif mode == "endless":
            block = b"8000\r\n" + b"x" * 0x8000 + b"\r\n"
            while True:
                s.sendall(block)
        else:
            s.sendall(b"0\r\n\r\n")
        s.settimeout(10)
        print("agent answered", s.recv(64).split(b"\r\n")[0])
    except OSError as exc:
        print("agent cut the stream off:", exc)
    s.close()
"""


def _deploy(lam: Client) -> str:
    name = f"hostile-stream-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="provided.al2023",
        Role="arn:aws:iam::123456789012:role/lambda-role",
        Handler="bootstrap",
        Code={"ZipFile": make_zip({"bootstrap": BOOTSTRAP}, executable=("bootstrap",))},
        Timeout=60,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def _stream(lam: Client, name: str, mode: str) -> tuple[int, dict[str, Any]]:
    """Payload bytes received (counted, not kept) and the InvokeComplete event."""
    response = lam.invoke_with_response_stream(
        FunctionName=name, Payload=json.dumps({"mode": mode}).encode()
    )
    size, last = 0, {}
    for event in response["EventStream"]:
        if "PayloadChunk" in event:
            size += len(event["PayloadChunk"]["Payload"])
        last = event
    assert "InvokeComplete" in last, last
    complete: dict[str, Any] = last["InvokeComplete"]
    return size, complete


@pytest.mark.parametrize(
    ("mode", "error_code"),
    [
        ("bad-size", "Runtime.TruncatedResponse"),
        ("huge-trailers", "Runtime.TruncatedResponse"),
        ("endless", "Function.ResponseSizeTooLarge"),
    ],
)
def test_hostile_streams_end_cleanly_and_the_agent_survives(
    server: Server, mode: str, error_code: str
) -> None:
    lam = server.client()
    name = _deploy(lam)
    assert _stream(lam, name, "ok") == (5, {})
    before = instance_of(server, name)["InstanceId"]
    size, complete = _stream(lam, name, mode)
    assert complete.get("ErrorCode") == error_code, complete
    assert 5 <= size <= MAX_STREAMED
    if mode == "endless":
        assert size > MAX_STREAMED - 1024 * 1024  # it streamed up to the cap, then stopped
    assert _stream(lam, name, "ok") == (5, {})
    assert instance_of(server, name)["InstanceId"] == before, "the agent lived through it"
