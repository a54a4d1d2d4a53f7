"""A function cannot make its instance's later log lines disappear, nor pass its text off as the
platform's records: what it prints is its own text, the agent's log (the stream the platform
numbers and trusts: a file only the agent and the control plane may open) is out of its reach,
and the platform's own records are marked as such by the agent alone."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestrator.log_follow import filter_events
from tests.security.hostile import deploy, run
from tests.support.aws_errors import refusal
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
    assert forged["log_file_exists"] is True, "the probe looked in the right place"
    for probe in ("log_file_write", "log_file_read", "agent_fds"):
        assert forged[probe]["ok"] is False, f"{probe}: {forged[probe]}"
        assert forged[probe]["errno"] in ("EACCES", "EPERM"), f"{probe}: {forged[probe]}"


def _origin_of(server: Server, name: str, request_id: str) -> list[tuple[str, str]]:
    """(origin, message) of one invocation's lines, as `lambkin logs` asks for them (with
    Lambkin's opt-in extension)."""
    body = {"logGroupName": f"/aws/lambda/{name}", "filterPattern": f'"{request_id}"'}
    events = filter_events(server.endpoint, body)["events"]
    return [(event["lambkinOrigin"], event["message"]) for event in events]


def test_printed_copies_of_platform_records_are_never_the_platforms(server: Server) -> None:
    name = deploy(server)
    response = server.client().invoke(
        FunctionName=name, Payload=json.dumps({"probe": "impersonate"})
    )
    assert json.loads(response["Payload"].read()) == "printed"
    request_id = response["ResponseMetadata"]["RequestId"]

    deadline = time.monotonic() + 15
    while True:
        lines = _origin_of(server, name, request_id)
        reports = [line for line in lines if line[1].startswith("REPORT RequestId")]
        if len(reports) == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    by_origin: dict[str, list[str]] = {"platform": [], "function": []}
    for origin, message in lines:
        by_origin[origin].append(message.split("\t")[0])
    copies = [
        f"START RequestId: {request_id} Version: $LATEST",
        f"END RequestId: {request_id}",
        f"REPORT RequestId: {request_id}",
    ]
    assert by_origin == {"platform": copies, "function": copies}, lines
    platform_report = next(m for o, m in lines if o == "platform" and m.startswith("REPORT"))
    assert "Duration: 1.00 ms" not in platform_report, "the platform's REPORT is its own"

    # AWS's SDKs never ask, and get AWS's answer exactly: no extra key.
    events = server.client("logs").filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    assert events and all(
        set(event) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}
        for event in events
    ), events

    # `lambkin logs` shows whose each line is.
    shown = subprocess.run(
        [sys.executable, "-m", "orchestrator", "logs", name, "--request-id", request_id,
         "--endpoint", server.endpoint],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout.splitlines()  # fmt: skip
    parsed = [tuple(line.split(" ", 3)[2:]) for line in shown]  # time, instance, origin, text
    assert sorted(parsed) == sorted(lines), shown


def test_a_function_cannot_log_into_another_functions_log_group(server: Server) -> None:
    """A custom LogGroup naming another function's own group (`/aws/lambda/<other>`) would let
    this function's code write lines its deployer may not touch into that function's logs."""
    victim = deploy(server)
    lam = server.client()
    forged = {"LogFormat": "JSON", "LogGroup": f"/aws/lambda/{victim}"}
    name = f"probe-{uuid.uuid4().hex[:8]}"
    status, code, message = refusal(
        lam.create_function, FunctionName=name, Runtime="python3.11",
        Role="arn:aws:iam::000000000000:role/r", Handler="probe.handler",
        Code={"ZipFile": b"PK\x05\x06" + bytes(18)}, LoggingConfig=forged,
    )  # fmt: skip
    assert (status, code) == (400, "InvalidParameterValueException"), message
    assert victim in message
    attacker = deploy(server)
    status, code, _ = refusal(
        lam.update_function_configuration, FunctionName=attacker, LoggingConfig=forged
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    # Its own default group and a group of its own naming stay allowed.
    for own in (f"/aws/lambda/{attacker}", f"/custom/{attacker}"):
        answer = lam.update_function_configuration(
            FunctionName=attacker, LoggingConfig={"LogFormat": "JSON", "LogGroup": own}
        )
        assert answer["LoggingConfig"]["LogGroup"] == own
