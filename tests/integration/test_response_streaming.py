"""InvokeWithResponseStream end to end on the docker driver: boto3 reads PayloadChunk events as
the function writes them, then InvokeComplete. A Node.js handler wrapped in
awslambda.streamifyResponse, a custom runtime streaming a chunked POST, a buffered Python
function through the same API; mid-stream errors, the log tail, a client that leaves
mid-stream, throttling."""

from __future__ import annotations

import base64
import http.client
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from orchestrator.images import ImageStatus, image_status
from orchestrator.settings import Settings
from tests.support.server import Client, Server, start_server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

FUNCTIONS = Path(__file__).parent / "functions" / "streaming"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
PYTHON_APP = """\
def handler(event, context):
    print("buffered python", event)
    if event.get("fail"):
        raise ValueError("no luck")
    return {"hello": "world", "n": 3}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    prefix = Settings().image_prefix
    for runtime in ("nodejs18.x", "python3.11", "provided.al2023"):
        if image_status(runtime, prefix=prefix) is not ImageStatus.CURRENT:
            pytest.fail(
                f"{prefix}/{runtime} is not built from these sources: run "
                f"LAMBKIN_IMAGE_PREFIX={prefix} python3 -m orchestrator.images build {runtime}"
            )
    srv = start_server("docker", tmp_path_factory.mktemp("streaming"))
    yield srv
    assert srv.stop() == 0


def create(
    lam: Client, runtime: str, handler: str, files: dict[str, str | bytes], **kw: Any
) -> str:
    name = f"stream-{uuid.uuid4().hex[:10]}"
    executable = ("bootstrap",) if "bootstrap" in files else ()
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": make_zip(files, executable=executable)},
        **kw,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


@pytest.fixture(scope="module")
def node_fn(server: Server) -> str:
    return create(
        server.client(),
        "nodejs18.x",
        "index.handler",
        {"index.mjs": (FUNCTIONS / "index.mjs").read_text()},
        Timeout=10,
    )


def stream(
    lam: Client, name: str, event: dict[str, Any], **kw: Any
) -> tuple[dict[str, Any], list[tuple[float, dict[str, Any]]]]:
    """The response and its events, each with the client's clock when it arrived."""
    response = lam.invoke_with_response_stream(
        FunctionName=name, Payload=json.dumps(event).encode(), **kw
    )
    events = [(time.monotonic(), e) for e in response["EventStream"]]
    return response, events


def payload(events: list[tuple[float, dict[str, Any]]]) -> bytes:
    return b"".join(e["PayloadChunk"]["Payload"] for _, e in events if "PayloadChunk" in e)


def complete(events: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
    assert "InvokeComplete" in events[-1][1], events
    assert all("InvokeComplete" not in e for _, e in events[:-1])
    result: dict[str, Any] = events[-1][1]["InvokeComplete"]
    return result


def test_chunks_arrive_as_the_handler_writes_them(server: Server, node_fn: str) -> None:
    lam = server.client()
    stream(lam, node_fn, {"sleepMs": 1})  # warm: the timing below is not a cold start's
    response, events = stream(lam, node_fn, {"sleepMs": 1000})
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/vnd.amazon.eventstream"
    )
    assert response["ExecutedVersion"] == "$LATEST" and response["StatusCode"] == 200
    chunks = [(at, e["PayloadChunk"]["Payload"]) for at, e in events if "PayloadChunk" in e]
    assert len(chunks) >= 2, chunks
    assert b"".join(c for _, c in chunks) == b"first second third"
    first_at = chunks[0][0]
    rest_at = next(at for at, c in chunks if b"second" in c)
    # The first chunk came before the handler's 1 s sleep ended (a behaviour check, not a
    # speed target: generous margin).
    assert chunks[0][1] == b"first "
    assert rest_at - first_at > 0.5, (first_at, rest_at)
    assert complete(events) == {}


def test_http_response_stream_prelude_and_pipeline(server: Server, node_fn: str) -> None:
    lam = server.client()
    _, events = stream(lam, node_fn, {"mode": "http"})
    prelude = json.dumps({"statusCode": 201, "headers": {"x-custom": "yes"}, "cookies": ["a=1"]})
    assert payload(events) == prelude.replace(" ", "").encode() + b"\0" * 8 + b"body"
    _, events = stream(lam, node_fn, {"mode": "pipeline"})
    assert payload(events) == b"p1 p2 p3" and complete(events) == {}


def test_mid_stream_error(server: Server, node_fn: str) -> None:
    _, events = stream(server.client(), node_fn, {"mode": "fail", "sleepMs": 10})
    assert payload(events) == b"first "
    done = complete(events)
    assert done["ErrorCode"] == "Error" and done["ErrorDetails"] == "boom mid-stream", done


def test_log_result_with_tail(server: Server, node_fn: str) -> None:
    _, events = stream(server.client(), node_fn, {"sleepMs": 1}, LogType="Tail")
    tail = base64.b64decode(complete(events)["LogResult"]).decode()
    assert "START RequestId:" in tail and "streaming mode=undefined" in tail
    assert "END RequestId:" in tail and "REPORT RequestId:" in tail


def test_a_buffered_python_function_through_the_streaming_api(server: Server) -> None:
    lam = server.client()
    name = create(lam, "python3.11", "app.handler", {"app.py": PYTHON_APP})
    _, events = stream(lam, name, {"x": 1}, LogType="Tail")
    assert json.loads(payload(events)) == {"hello": "world", "n": 3}
    assert "buffered python" in base64.b64decode(complete(events)["LogResult"]).decode()
    _, events = stream(lam, name, {"fail": True})
    assert payload(events) == b""
    done = complete(events)
    assert done["ErrorCode"] == "ValueError" and done["ErrorDetails"] == "no luck"


def test_a_custom_runtime_streams(server: Server) -> None:
    lam = server.client()
    bootstrap = (FUNCTIONS / "bootstrap").read_bytes()
    name = create(lam, "provided.al2023", "bootstrap", {"bootstrap": bootstrap})
    stream(lam, name, {})  # warm
    _, events = stream(lam, name, {})
    chunks = [(at, e["PayloadChunk"]["Payload"]) for at, e in events if "PayloadChunk" in e]
    assert b"".join(c for _, c in chunks) == b"custom streamed" and complete(events) == {}
    assert chunks[0][1] == b"custom " and chunks[-1][0] - chunks[0][0] > 0.5, chunks


def test_a_client_leaving_mid_stream_leaks_nothing(server: Server, node_fn: str) -> None:
    endpoint = urlparse(server.endpoint)
    conn = http.client.HTTPConnection(endpoint.hostname or "127.0.0.1", endpoint.port, timeout=30)
    path = f"/2021-11-15/functions/{node_fn}/response-streaming-invocations"
    conn.request("POST", path, body=json.dumps({"mode": "endless", "sleepMs": 10}))
    answer = conn.getresponse()
    assert answer.status == 200
    assert answer.read(100_000)  # it streams...
    conn.sock.close()  # ...and the client goes away
    conn.close()
    # The next invocations are served (by that instance or a new one), and none hangs.
    lam = server.client()
    for _ in range(2):
        started = time.monotonic()
        _, events = stream(lam, node_fn, {"sleepMs": 1})
        assert payload(events) == b"first second third" and complete(events) == {}
        assert time.monotonic() - started < 30
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        busy = [i for i in server.instances(node_fn) if i.get("State") == "busy"]
        if not busy:
            break
        time.sleep(0.2)
    assert not busy, server.instances(node_fn)


def test_throttled_before_the_first_byte(server: Server) -> None:
    lam = server.client()
    name = create(lam, "python3.11", "app.handler", {"app.py": PYTHON_APP})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException):
        lam.invoke_with_response_stream(FunctionName=name, Payload=b"{}")
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke_with_response_stream(FunctionName="no-such-fn", Payload=b"{}")
