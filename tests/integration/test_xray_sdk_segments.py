"""AWS's X-Ray SDK inside a function: its subsegments land in the invocation's trace.

The SDK (aws-xray-sdk, bundled in the zip as a user would) finds the daemon address Lambda
sets, sends each finished subsegment over UDP to the agent, and the control plane folds them
into `/lambkin/traces/<id>` under the Invoke span, on both drivers.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.test_logs import ROLE, metric, metrics
from tests.integration.test_metrics_and_traces import get_json, raw_invoke
from tests.support.oracles import xray_sdk_dir
from tests.support.server import Server, start_server
from tests.support.zips import zip_tree

DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]

HANDLER = """\
import os

from aws_xray_sdk.core import xray_recorder


def handler(event, context):
    with xray_recorder.in_subsegment("lambkin-work") as work:
        work.put_annotation("customer", "c-42")
        work.put_metadata("detail", {"items": 3})
        with xray_recorder.in_subsegment("lambkin-inner"):
            pass
    if event.get("fail"):
        with xray_recorder.in_subsegment("lambkin-failing"):
            try:
                raise ValueError("no such order")
            except ValueError as error:
                xray_recorder.current_subsegment().add_exception(error, [])
    return {k: v for k, v in os.environ.items() if "XRAY" in k}
"""


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"xray-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def xray_zip() -> bytes:
    return zip_tree(xray_sdk_dir(), {"traced.py": HANDLER})


def deploy(server: Server, code: bytes, handler: str) -> str:
    lam = server.client()
    name = f"xray-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": code},
        TracingConfig={"Mode": "Active"},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def new_root() -> str:
    return f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"


def spans_when(server: Server, root: str, names: set[str]) -> dict[str, dict[str, Any]]:
    """The trace's spans by name once all of `names` are in it (segments ride the logs: a
    moment after the response)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            spans = {s["name"]: s for s in get_json(server, f"/lambkin/traces/{root}")["Spans"]}
        except OSError:  # 404 until the trace's first span ends
            spans = {}
        if names <= set(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.1)


def test_sdk_subsegments_fold_into_the_invocation_trace(server: Server, xray_zip: bytes) -> None:
    name = deploy(server, xray_zip, "traced.handler")
    root = new_root()
    _, env = raw_invoke(server, name, {"X-Amzn-Trace-Id": f"Root={root};Sampled=1"})
    host, _, port = env["AWS_XRAY_DAEMON_ADDRESS"].partition(":")
    assert host == "127.0.0.1" and port.isdigit()
    assert env["_AWS_XRAY_DAEMON_ADDRESS"] == host and env["_AWS_XRAY_DAEMON_PORT"] == port
    assert env["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"

    spans = spans_when(server, root, {"lambkin-work", "lambkin-inner"})
    invoke = spans[f"Invoke {name}"]
    work, inner = spans["lambkin-work"], spans["lambkin-inner"]
    assert work["parentSpanId"] == invoke["spanId"]  # the facade segment is the Invoke span
    assert inner["parentSpanId"] == work["spanId"]
    assert work["attributes"]["xray.annotations.customer"] == "c-42"
    assert work["attributes"]["lambkin.source"] == "xray"
    assert '"items":3' in work["attributes"]["xray.metadata"]
    assert invoke["startTimeUnixNano"] <= work["startTimeUnixNano"]
    assert inner["endTimeUnixNano"] <= work["endTimeUnixNano"] <= invoke["endTimeUnixNano"]
    assert metric(metrics(server), "lambkin_xray_segments_total", outcome="folded") >= 2

    # A failure recorded by the SDK is the span's status; the segments never became log lines.
    root = new_root()
    raw_invoke(server, name, {"X-Amzn-Trace-Id": f"Root={root};Sampled=1"}, b'{"fail": true}')
    failing = spans_when(server, root, {"lambkin-failing"})["lambkin-failing"]
    assert failing["status"] == "ERROR"
    assert "no such order" in failing["statusMessage"]
    lines = server.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert lines and not any("lambkin-work" in e["message"] for e in lines)


def test_an_unsampled_invocation_sends_no_segments(server: Server, xray_zip: bytes) -> None:
    name = deploy(server, xray_zip, "traced.handler")
    root = new_root()
    raw_invoke(server, name, {"X-Amzn-Trace-Id": f"Root={root};Sampled=0"})
    spans = spans_when(server, root, {"lambkin-work"})  # waits as long as a sampled one would
    assert f"Invoke {name}" in spans  # the platform's own span, as before
    assert not [s for s in spans.values() if s["attributes"].get("lambkin.source") == "xray"]
