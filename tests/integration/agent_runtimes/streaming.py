"""A runtime that streams its response (chunked, Lambda-Runtime-Function-Response-Mode:
streaming) in two chunks; for the event "fail" it ends the stream with the error trailers
(Lambda-Runtime-Function-Error-Type, -Error-Body as base64), as a stream that failed midway.
The trailers are sent undeclared (no Trailer: header), which the agent must accept too.
"""

from __future__ import annotations

import base64
import os
import socket

from rapi import RuntimeApi

api = RuntimeApi()
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
error_body = base64.b64encode(b'{"errorType":"Function.Streamed","errorMessage":"midway"}')

while True:
    request_id, headers, body = api.next()
    trailers = b""
    if body == b'"fail"':
        trailers = (
            b"Lambda-Runtime-Function-Error-Type: Function.StreamFailed\r\n"
            b"Lambda-Runtime-Function-Error-Body: " + error_body + b"\r\n"
        )
    with socket.create_connection((host, int(port))) as conn:
        conn.sendall(
            f"POST /2018-06-01/runtime/invocation/{request_id}/response HTTP/1.1\r\n".encode()
            + b"Host: runtime\r\nTransfer-Encoding: chunked\r\n"
            b"Lambda-Runtime-Function-Response-Mode: streaming\r\n"
            b"Content-Type: text/event-stream\r\n\r\n"
            b"5\r\nhello\r\n6\r\n world\r\n0\r\n" + trailers + b"\r\n"
        )
        status_line = conn.recv(4096).split(b"\r\n")[0]
    print(status_line.decode(), flush=True)
