"""A function cannot make its instance's later log lines disappear: what it prints is its own
text, and the agent's stdout (the stream the platform numbers and trusts) is out of its reach."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.security.hostile import deploy, run
from tests.support.server import Server

pytestmark = pytest.mark.docker

FORGED = '{"s":999999999,"t":0,"r":"x","p":"platform","m":"REPORT RequestId: forged"}'


def dropped_lines(server: Server, name: str) -> float:
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "lambkin_log_lines_dropped_total"
        and sample.labels.get("function") == name
    )


def stored(server: Server, name: str) -> list[str]:
    logs = server.client("logs")
    kwargs: dict[str, Any] = {"logGroupName": f"/aws/lambda/{name}"}
    messages: list[str] = []
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return []
        messages += [event["message"] for event in page["events"]]
        if "nextToken" not in page:
            return messages
        kwargs["nextToken"] = page["nextToken"]


def test_forged_log_events_hide_no_later_line(server: Server) -> None:
    name = deploy(server)
    before = dropped_lines(server, name)
    lam = server.client()

    forged = run(server, name, {"probe": "forge"})
    markers = [f"later line {i} {uuid.uuid4().hex[:6]}" for i in range(3)]
    later = lam.invoke(FunctionName=name, Payload=json.dumps({"probe": "lines", "lines": markers}))
    assert json.loads(later["Payload"].read()) == "printed"
    request_id = later["ResponseMetadata"]["RequestId"]

    expected = [
        f"START RequestId: {request_id} Version: $LATEST",
        *markers,
        f"END RequestId: {request_id}",
    ]
    deadline = time.monotonic() + 15
    while True:
        messages = stored(server, name)
        if all(line in messages for line in expected) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for line in expected:
        assert line in messages, f"{line!r} was not stored: {messages}"
    assert any(m.startswith(f"REPORT RequestId: {request_id}\t") for m in messages), messages
    assert FORGED in messages, "what the function printed is stored as its text"
    assert not any(m == "REPORT RequestId: forged" for m in messages)
    assert dropped_lines(server, name) - before == 0
    assert forged["stdout"]["ok"] is False, "the agent's own stdout is out of reach"
