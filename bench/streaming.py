"""Time to first byte of a streamed response: a Node.js handler behind a RESPONSE_STREAM
function URL writes a chunk, sleeps 1 s, writes another (issue 16's bar: the first chunk arrives
before the sleep ends). Measured warm, by the client's clock, over a keep-alive connection."""

from __future__ import annotations

import http.client
import time
from pathlib import Path
from typing import Any

from .lambkin import Lambkin
from .stats import summarize_ms

HANDLER = (
    Path(__file__).resolve().parents[1] / "tests" / "integration" / "functions" / "streaming"
) / "url.mjs"
SLEEP_MS = 1000.0


def first_byte(lk: Lambkin, samples: int) -> dict[str, Any]:
    lk.deploy("streamer", {"url.mjs": HANDLER.read_text()}, runtime="nodejs18.x",
              handler="url.handler")  # fmt: skip
    url = lk.lam.create_function_url_config(
        FunctionName="streamer", AuthType="NONE", InvokeMode="RESPONSE_STREAM"
    )["FunctionUrl"]
    lk.lam.add_permission(
        FunctionName="streamer", StatementId="bench-url", Action="lambda:InvokeFunctionUrl",
        Principal="*", FunctionUrlAuthType="NONE",
    )  # fmt: skip
    path = f"/lambkin/urls/{url.split('//', 1)[1].split('.', 1)[0]}/plain"
    connection = http.client.HTTPConnection(lk.host, lk.port, timeout=30)
    first_ms: list[float] = []
    total_ms: list[float] = []
    try:
        for i in range(samples + 1):  # the first one is the cold start: not counted
            started = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read1(1)  # the first byte of the body
            arrived = time.perf_counter()
            response.read()
            done = time.perf_counter()
            if i:
                first_ms.append((arrived - started) * 1000)
                total_ms.append((done - started) * 1000)
    finally:
        connection.close()
    return {
        "method": "GET a RESPONSE_STREAM URL whose handler writes, sleeps 1 s, writes; warm",
        "sleep_ms": SLEEP_MS,
        "first_byte": summarize_ms(first_ms),
        "whole_response": summarize_ms(total_ms),
    }
