"""A function's X-Ray daemon address is a way into traces only its own invocation's: segments
naming another function's trace, or the invocation's own span, are refused; garbage does not
hurt the agent; a flood stays bounded."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest

from tests.integration.test_metrics_and_traces import get_json, raw_invoke
from tests.security.hostile import deploy
from tests.support.server import Server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

FORGER = """\
import json, os, socket, time

HEADER = b'{"format": "json", "version": 1}\\n'


def handler(event, context):
    host, port = os.environ["AWS_XRAY_DAEMON_ADDRESS"].split(":")
    trace = dict(p.split("=", 1) for p in os.environ["_X_AMZN_TRACE_ID"].split(";"))
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(data):
        sock.sendto(data, (host, int(port)))

    def segment(root, parent, span_id, name):
        now = time.time()
        return HEADER + json.dumps({
            "name": name, "id": span_id, "trace_id": root, "parent_id": parent,
            "type": "subsegment", "start_time": now - 0.01, "end_time": now,
        }).encode()

    for raw in event.get("garbage", []):
        send(raw.encode("latin-1"))
    if "foreign" in event:
        send(segment(event["foreign"]["root"], event["foreign"]["parent"], "f" * 16, "forged"))
    send(segment(trace["Root"], trace["Parent"], trace["Parent"], "own-id"))
    send(segment(trace["Root"], trace["Parent"], "e" * 16, "honest"))
    for i in range(event.get("flood", 0)):
        send(segment(trace["Root"], trace["Parent"], "%016x" % (i + 1), "flood"))
        if i % 100 == 99:
            time.sleep(0.002)  # stay within the socket's buffer: the bound is what is tested
    return trace
"""
FORGER_ZIP = make_zip({"forger.py": FORGER})


def new_root() -> str:
    return f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"


def spans(server: Server, root: str) -> list[dict[str, Any]]:
    trace: list[dict[str, Any]] = get_json(server, f"/lambkin/traces/{root}")["Spans"]
    return trace


def settled(server: Server, root: str, name: str) -> list[dict[str, Any]]:
    """The trace once its `name` span has been folded, and what followed it had time to."""
    deadline = time.monotonic() + 15
    while not any(s["name"] == name for s in spans(server, root)):
        assert time.monotonic() < deadline, spans(server, root)
        time.sleep(0.1)
    time.sleep(1.5)
    return spans(server, root)


def test_forged_segments_join_no_other_trace_and_floods_stay_bounded(server: Server) -> None:
    victim, forger = deploy(server), deploy(server, FORGER_ZIP, "forger.handler")
    victim_root = new_root()
    raw_invoke(server, victim, {"X-Amzn-Trace-Id": f"Root={victim_root};Sampled=1"}, b"{}")
    victim_spans = spans(server, victim_root)
    victim_invoke = next(s for s in victim_spans if s["name"].startswith("Invoke "))

    root = new_root()
    event = {
        "foreign": {"root": victim_root, "parent": victim_invoke["spanId"]},
        "garbage": [
            "\x00\xff" * 500,  # no header
            '{"format": "json", "version": 1}\n',  # a header and nothing
            '{"format": "xml", "version": 1}\n<segment/>',  # another format
            '{"format": "json", "version": 1}\n{"name": ',  # not JSON
            '{"format": "json", "version": 1}\n' + "[" * 60_000,  # deep, big, not a segment
        ],
        "flood": 3000,
    }
    _, answer = raw_invoke(
        server, forger, {"X-Amzn-Trace-Id": f"Root={root};Sampled=1"}, json.dumps(event).encode()
    )
    assert answer["Root"] == root

    own = settled(server, root, "honest")
    names = [s["name"] for s in own]
    assert "own-id" not in names and "forged" not in names
    assert 0 < names.count("flood") < 1000  # the bound (1000 in all, "honest" among them)
    assert [s["name"] for s in spans(server, victim_root)] == [s["name"] for s in victim_spans]

    # The agent lived through it: the next invocation is served, by the same instance.
    again = new_root()
    _, answer = raw_invoke(server, forger, {"X-Amzn-Trace-Id": f"Root={again};Sampled=1"}, b"{}")
    assert answer["Root"] == again
    assert [s["name"] for s in settled(server, again, "honest")].count("honest") == 1
    assert len(server.instances(forger)) == 1
