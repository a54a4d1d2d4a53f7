"""Function logs end to end: captured by the agent, stored by the control plane, read with boto3.

A real server on each driver; the kill cases and the 50 MB flood run on Docker, where they
matter (a container's log outlives its process only until the container is removed).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.server import REPO_ROOT, Server, start_server
from tests.support.zips import make_zip

FUNCTIONS = Path(__file__).parent / "functions"
ZIP = make_zip({"observed.py": (FUNCTIONS / "observed.py").read_text()})
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"logs-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def docker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("logs-docker-only"))
    yield srv
    assert srv.stop() == 0, srv.log()


def create(server: Server, handler: str, **extra: Any) -> str:
    lam = server.client()
    name = f"log-{handler.split('.')[-1].replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": ZIP},
        **extra,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def invoke(server: Server, name: str, payload: object, **extra: Any) -> dict[str, Any]:
    response: dict[str, Any] = server.client().invoke(
        FunctionName=name, Payload=json.dumps(payload), **extra
    )
    response["Body"] = json.loads(response["Payload"].read())
    return response


def all_events(server: Server, name: str, **filters: Any) -> list[dict[str, Any]]:
    logs = server.client("logs")
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"logGroupName": f"/aws/lambda/{name}", **filters}
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return []
        events += page["events"]
        if "nextToken" not in page:
            return events
        kwargs["nextToken"] = page["nextToken"]


def wait_events(
    server: Server,
    name: str,
    done: Callable[[list[dict[str, Any]]], bool],
    timeout: float = 15,
    **filters: Any,
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        events = all_events(server, name, **filters)
        if done(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def first_group(pattern: str, text: str) -> str:
    """Group 1 of `pattern`'s first match in `text`; the test fails when there is none."""
    found = re.search(pattern, text)
    assert found is not None, f"{pattern!r} not in {text!r}"
    return found[1]


def messages(events: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in events]


def metrics(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=5) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def metric(
    values: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


# -- the acceptance scenario: 50 invocations, several instances ---------------------------------


def test_every_line_stored_tagged_and_in_order(server: Server) -> None:
    name = create(server, "observed.three_lines")
    with ThreadPoolExecutor(5) as pool:
        responses = list(
            pool.map(lambda i: invoke(server, name, {"sleep": 0.2 if i < 5 else 0}), range(50))
        )
    request_ids = {r["ResponseMetadata"]["RequestId"] for r in responses}
    assert len(request_ids) == 50 and all(r["Body"] == "ok" for r in responses)

    def complete(events: list[dict[str, Any]]) -> bool:
        return sum(m.startswith("REPORT ") for m in messages(events)) >= 50

    events = wait_events(server, name, complete)
    texts = messages(events)
    assert (
        texts.count("first line") == texts.count("second line") == texts.count("third line") == 50
    )
    for kind in ("START", "END", "REPORT"):
        assert {
            first_group(r"RequestId: (\S+)", m) for m in texts if m.startswith(kind + " ")
        } == request_ids

    by_stream: dict[str, list[str]] = defaultdict(list)
    for event in sorted(
        events,
        key=lambda e: (
            e["logStreamName"],
            e["eventId"].split("-")[0],
            int(e["eventId"].split("-")[1]),
        ),
    ):
        by_stream[event["logStreamName"]].append(event["message"])
    assert len(by_stream) >= 2, "the burst ran on several instances, one stream each"
    for stream, lines in by_stream.items():
        assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{16}", stream)
        assert lines[0] == "init: module imported"  # init output comes first, before any START
        body = lines[1:]
        assert len(body) % 6 == 0
        for i in range(0, len(body), 6):
            rid = body[i].split()[2]
            assert body[i] == f"START RequestId: {rid} Version: $LATEST"
            assert body[i + 1 : i + 4] == ["first line", "second line", "third line"]
            assert body[i + 4] == f"END RequestId: {rid}"
            assert body[i + 5].startswith(f"REPORT RequestId: {rid}\tDuration: ")

    # Each printed line carries the request id it was printed under (a filter term matches it).
    some = sorted(request_ids)[:10]
    for rid in some:
        tagged = messages(all_events(server, name, filterPattern=f'"{rid}"'))
        assert tagged[0].startswith(f"START RequestId: {rid}")
        assert tagged[1:4] == ["first line", "second line", "third line"]
        assert tagged[4] == f"END RequestId: {rid}" and tagged[5].startswith(
            f"REPORT RequestId: {rid}"
        )


def test_log_apis_describe_get_and_filter(server: Server) -> None:
    name = create(server, "observed.three_lines")
    before = int(time.time() * 1000)
    invoke(server, name, {})
    invoke(server, name, {})
    logs = server.client("logs")
    group = f"/aws/lambda/{name}"
    wait_events(server, name, lambda e: sum(m.startswith("REPORT") for m in messages(e)) == 2)

    groups = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group] and groups[0]["storedBytes"] > 0
    streams = logs.describe_log_streams(
        logGroupName=group, orderBy="LastEventTime", descending=True
    )["logStreams"]
    assert len(streams) == 1 and streams[0]["lastEventTimestamp"] >= before
    stream = streams[0]["logStreamName"]

    got = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)
    assert messages(got["events"])[0] == "init: module imported"
    assert len(got["events"]) == 13
    again = logs.get_log_events(
        logGroupName=group, logStreamName=stream, nextToken=got["nextForwardToken"]
    )
    assert again["events"] == [] and again["nextForwardToken"] == got["nextForwardToken"]
    paged = logs.get_log_events(
        logGroupName=group, logStreamName=stream, startFromHead=True, limit=5
    )
    assert len(paged["events"]) == 5
    rest = logs.get_log_events(
        logGroupName=group, logStreamName=stream, nextToken=paged["nextForwardToken"]
    )
    assert messages(paged["events"]) + messages(rest["events"]) == messages(got["events"])

    assert messages(all_events(server, name, filterPattern="second")) == ["second line"] * 2
    assert len(all_events(server, name, filterPattern="?first ?third")) == 4
    assert len(all_events(server, name, filterPattern='"line" -second')) == 4
    assert all_events(server, name, startTime=int(time.time() * 1000) + 60_000) == []
    assert len(all_events(server, name, logStreamNames=[stream])) == 13
    assert len(all_events(server, name, limit=3)) == 13  # paginated
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.filter_log_events(logGroupName="/aws/lambda/no-such-function")
    with pytest.raises(logs.exceptions.InvalidParameterException):
        logs.filter_log_events(logGroupName=group, filterPattern="[ip, status = 404]")
    logs.put_retention_policy(logGroupName=group, retentionInDays=7)
    assert (
        logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["retentionInDays"] == 7
    )


def _logs_call(
    server: Server, operation: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """A CloudWatch Logs call over plain HTTP, with headers of our choosing: (status, answer)."""
    request = urllib.request.Request(
        server.endpoint + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "X-Amz-Target": f"Logs_20140328.{operation}",
            "Content-Type": "application/x-amz-json-1.1",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read())


def test_node_labels_are_opt_in_and_absent_on_one_machine(server: Server) -> None:
    """Lambkin-Log-Node (api/log_extensions.py): an SDK's answers stay AWS's; asked for, a
    stream of one machine's driver names no node; a node filter selects by it, and a filter
    that cannot be a hostname gets AWS's own kind of refusal. (Named nodes: the swarm tests.)"""
    name = create(server, "observed.three_lines")
    invoke(server, name, {})
    wait_events(server, name, lambda e: any(m.startswith("REPORT") for m in messages(e)))
    group = {"logGroupName": f"/aws/lambda/{name}"}
    include = {"Lambkin-Log-Node": "include", "Lambkin-Log-Origin": "include"}
    for operation in ("FilterLogEvents", "DescribeLogStreams"):
        for headers in ({}, include):
            status, answer = _logs_call(server, operation, group, headers)
            assert status == 200, answer
            listed = answer.get("events") or answer["logStreams"]
            assert listed and not any("lambkinNode" in item for item in listed), answer
    status, answer = _logs_call(server, "FilterLogEvents", group, include)
    assert {e["lambkinOrigin"] for e in answer["events"]} == {"platform", "function"}
    elsewhere = {**include, "Lambkin-Log-Node-Filter": "worker-1"}
    assert _logs_call(server, "FilterLogEvents", group, elsewhere) == (
        200,
        {"events": [], "searchedLogStreams": []},
    )
    assert _logs_call(server, "DescribeLogStreams", group, elsewhere) == (200, {"logStreams": []})
    for bad in ("a b", "-worker", "x" * 300, "worker/1", "../etc"):
        status, answer = _logs_call(
            server, "FilterLogEvents", group, {"Lambkin-Log-Node-Filter": bad}
        )
        assert status == 400 and answer["__type"] == "InvalidParameterException", answer
        assert "hostname" in answer["message"], answer
    assert len(all_events(server, name)) > 0, "nothing stored was touched"


def test_json_filter_patterns_over_structured_logs(server: Server) -> None:
    name = create(server, "observed.structured")
    invoke(server, name, {"records": [["INFO", "cold hello", {}], ["ERROR", "boom", {"ms": 250}]]})
    invoke(
        server,
        name,
        {"records": [["ERROR", "slow", {"ms": 900, "cart": {"items": [{"sku": "A-1"}]}}]]},
    )
    events = wait_events(server, name, lambda e: "slow" in str(messages(e)))
    records = [json.loads(m) for m in messages(events) if m.startswith("{")]
    assert len(records) == 3

    def found(pattern: str) -> list[str]:
        return [
            json.loads(m)["message"]
            for m in messages(all_events(server, name, filterPattern=pattern))
        ]

    assert found('{ $.level = "ERROR" }') == ["boom", "slow"]
    assert found("{ $.cold_start IS TRUE }") == ["cold hello", "boom"]
    assert found("{ $.cold_start IS FALSE }") == ["slow"]
    assert found("{ $.xray_trace_id IS NULL }") == ["cold hello", "boom", "slow"]
    assert found("{ $.ms NOT EXISTS }") == ["cold hello"]
    assert found("{ $.ms >= 250 && $.ms < 900 }") == ["boom"]
    assert found('{ $.cart.items[0].sku = "A-*" }') == ["slow"]
    assert found(f'{{ $.function_name = "{name}" && ($.ms > 500 || $.level = INFO) }}') == [
        "cold hello",
        "slow",
    ]
    assert found("{ $.function_memory_size != 128 }") == []
    assert len(all_events(server, name, filterPattern='{ $.level = "*" }', limit=1)) == 3
    logs = server.client("logs")
    for pattern, message in [
        ('{ $.level = "ERROR"', "If a filter pattern starts with '{' it must end with '}'"),
        ("{ $.level == 1 }", "Invalid filter pattern"),
    ]:
        with pytest.raises(logs.exceptions.InvalidParameterException) as raised:
            logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern=pattern)
        assert raised.value.response["Error"]["Message"] == message


def test_logging_config_json_levels_and_custom_group(server: Server) -> None:
    lam = server.client()
    name = create(server, "observed.log_levels")
    assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == {
        "LogFormat": "Text",
        "LogGroup": f"/aws/lambda/{name}",
    }
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as refused:
        lam.update_function_configuration(
            FunctionName=name, LoggingConfig={"ApplicationLogLevel": "DEBUG"}
        )
    assert "LogLevel is not supported when LogFormat is set to" in str(refused.value)
    group = f"custom/{name}"
    updated = lam.update_function_configuration(
        FunctionName=name,
        LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "WARN", "LogGroup": group},
    )
    assert updated["LoggingConfig"] == {
        "ApplicationLogLevel": "WARN",
        "LogFormat": "JSON",
        "LogGroup": group,
        "SystemLogLevel": "INFO",
    }
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert invoke(server, name, {})["Body"] == group
    logs = server.client("logs")

    def stored() -> list[str]:
        try:
            return messages(logs.filter_log_events(logGroupName=group)["events"])
        except logs.exceptions.ResourceNotFoundException:
            return []

    deadline = time.monotonic() + 15
    while not any('"platform.report"' in m for m in stored()) and time.monotonic() < deadline:
        time.sleep(0.1)
    lines = stored()
    records = [json.loads(m) for m in lines if m.startswith("{")]
    kinds = [r.get("type") or r.get("level") for r in records]
    assert kinds == ["platform.start", "WARNING", "ERROR", "platform.report"], lines
    start, warn, report = records[0], records[1], records[-1]
    assert start["record"]["version"] == "$LATEST" and re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", start["time"]
    )
    rid = start["record"]["requestId"]
    assert warn["requestId"] == rid and warn["message"] == "warn record"
    assert report["record"]["requestId"] == rid and report["record"]["status"] == "success"
    metrics = report["record"]["metrics"]
    assert set(metrics) == {
        "durationMs",
        "billedDurationMs",
        "memorySizeMB",
        "maxMemoryUsedMB",
        "initDurationMs",
    }
    assert "printed line" in lines and not any(
        m.startswith(("START", "END", "REPORT")) for m in lines
    )
    assert all_events(server, name) == []  # nothing went to /aws/lambda/<name>
    found = logs.filter_log_events(
        logGroupName=group, filterPattern='{ $.type = "platform.report" }'
    )
    assert [json.loads(e["message"])["record"]["requestId"] for e in found["events"]] == [rid]

    lam.update_function_configuration(
        FunctionName=name, LoggingConfig={"SystemLogLevel": "WARN", "ApplicationLogLevel": "DEBUG"}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    invoke(server, name, {})
    deadline = time.monotonic() + 15
    while "debug record" not in str(stored()) and time.monotonic() < deadline:
        time.sleep(0.1)
    later = [json.loads(m) for m in stored()[len(lines) :] if m.startswith("{")]
    assert [r.get("message") for r in later] == [
        "debug record",
        "info record",
        "warn record",
        "error record",
    ], later  # SystemLogLevel WARN: no platform.start / platform.report
    assert later[1]["order"] == 7  # a record's `extra` fields


def test_tail_is_the_invocations_log(server: Server) -> None:
    import base64

    name = create(server, "observed.three_lines")
    response = invoke(server, name, {}, LogType="Tail")
    tail = base64.b64decode(response["LogResult"]).decode().splitlines()
    assert tail[0].startswith("START RequestId: ") and tail[1:4] == [
        "first line",
        "second line",
        "third line",
    ]
    assert tail[-1].startswith("REPORT RequestId: ") and "Init Duration" in tail[-1]


def test_lines_before_exit_and_timeout_are_stored(server: Server) -> None:
    name = create(server, "observed.print_then", Timeout=1)
    invoke(server, name, {"marker": "about to exit", "then": "exit"})
    invoke(server, name, {"marker": "about to time out", "then": "sleep"})
    events = wait_events(
        server, name, lambda e: {"about to exit", "about to time out"} <= set(messages(e))
    )
    assert {"about to exit", "about to time out"} <= set(messages(events))


# -- Docker: kills, recycling, floods, memory ----------------------------------------------------


def container_of(server: Server, name: str) -> Any:
    import docker

    (instance,) = server.instances(name)
    client = docker.from_env()
    (container,) = client.containers.list(
        filters={"label": f"org.lambkin.instance={instance['InstanceId']}"}
    )
    return container


@pytest.mark.docker
def test_lines_survive_every_way_an_instance_dies(docker_server: Server) -> None:
    server = docker_server
    name = create(server, "observed.print_then", Timeout=2, MemorySize=128)
    oom = invoke(server, name, {"marker": "before oom", "then": "oom"})
    assert oom["Body"]["errorType"] == "Runtime.OutOfMemory"
    timeout = invoke(server, name, {"marker": "before timeout", "then": "sleep", "seconds": 30})
    assert timeout["Body"]["errorType"] == "Sandbox.Timedout"
    invoke(server, name, {"marker": "before exit", "then": "exit"})

    result: dict[str, Any] = {}
    killer = threading.Thread(
        target=lambda: result.update(
            invoke(server, name, {"marker": "before docker kill", "then": "sleep"})
        )
    )
    killer.start()
    deadline = time.monotonic() + 10
    while (
        not [i for i in server.instances(name) if i["State"] == "busy"]
        and time.monotonic() < deadline
    ):
        time.sleep(0.02)
    time.sleep(1.0)  # the line is printed (the function prints, then sleeps); maybe not stored
    container_of(server, name).kill()
    killer.join(30)
    assert result["FunctionError"] == "Unhandled"

    recycled = create(server, "observed.print_then", Tags={"lambkin:max-invocations": "1"})
    invoke(server, recycled, {"marker": "before recycling"})
    deadline = time.monotonic() + 10
    while server.instances(recycled) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.instances(recycled) == []  # recycled: the container is gone

    markers = {"before oom", "before timeout", "before exit", "before docker kill"}
    events = wait_events(server, name, lambda e: markers <= set(messages(e)))
    assert markers <= set(messages(events))
    last = wait_events(server, recycled, lambda e: any(m.startswith("REPORT") for m in messages(e)))
    assert "before recycling" in messages(last) and messages(last)[-1].startswith(
        "REPORT RequestId"
    )


@pytest.mark.docker
def test_lines_printed_while_the_server_was_down_are_stored_after_restart(tmp_path: Path) -> None:
    """kill -9 of the server: its containers' logs are read out on restart (once: by sequence)."""
    server = start_server("docker", tmp_path)
    name = create(server, "observed.print_then", Timeout=30)
    invoke(server, name, {"marker": "before the crash"})

    def busy() -> None:
        try:
            invoke(server, name, {"marker": "busy", "then": "sleep", "seconds": 1})
        except Exception:  # the server is killed under it
            pass

    threading.Thread(target=busy, daemon=True).start()
    wait_events(server, name, lambda e: "busy" in messages(e))
    server.stop(
        signal.SIGKILL
    )  # the container lives on and finishes: END and REPORT while we are down
    time.sleep(1.5)
    restarted = start_server("docker", tmp_path)
    try:
        events = wait_events(
            restarted, name, lambda e: sum(m.startswith("REPORT") for m in messages(e)) >= 2
        )
        texts = messages(events)
        assert sum(m.startswith("REPORT") for m in texts) == 2, (
            texts
        )  # the busy one's REPORT was printed while down
        assert (
            texts.count("before the crash") == 1 and texts.count("busy") == 1
        )  # read twice, stored once
    finally:
        assert restarted.stop() == 0


def _rss_peak_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(first_group(r"VmHWM:\s+(\d+) kB", status))


@pytest.mark.docker
def test_50_mb_of_output_is_stored_with_bounded_memory(docker_server: Server) -> None:
    server = docker_server
    name = create(server, "observed.flood", Timeout=120, MemorySize=256)
    invoke(
        server, name, {"lines": 1, "width": 100}
    )  # warm: the cold start's memory is not the flood's
    deadline = time.monotonic() + 10  # its 5 lines (init, START, 1, END, REPORT) counted first
    while (
        metric(metrics(server), "lambkin_log_lines_stored_total", function=name) < 5
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    peak_before = _rss_peak_kb(server.process.pid)
    before = metrics(server)
    assert metric(before, "lambkin_log_lines_stored_total", function=name) == 5
    lines, width = 51_200, 1024  # 50 MiB and 50 KiB of newlines
    started = time.monotonic()
    assert invoke(server, name, {"lines": lines, "width": width})["Body"] == lines
    printed = lines + 3  # START, END, REPORT

    def settled() -> float:
        now = metrics(server)
        return sum(
            metric(now, f"lambkin_log_lines_{kind}_total", function=name)
            - metric(before, f"lambkin_log_lines_{kind}_total", function=name)
            for kind in ("stored", "dropped")
        )

    deadline = time.monotonic() + 90
    while settled() < printed and time.monotonic() < deadline:
        time.sleep(0.2)
    elapsed = time.monotonic() - started
    after = metrics(server)
    stored = metric(after, "lambkin_log_lines_stored_total", function=name) - metric(
        before, "lambkin_log_lines_stored_total", function=name
    )
    dropped = metric(after, "lambkin_log_lines_dropped_total", function=name) - metric(
        before, "lambkin_log_lines_dropped_total", function=name
    )
    assert stored + dropped == printed, (stored, dropped)
    growth_mb = (_rss_peak_kb(server.process.pid) - peak_before) / 1024
    print(
        f"50 MiB flood: stored {stored:.0f} lines, dropped {dropped:.0f}, {elapsed:.1f} s, "
        f"control-plane peak RSS +{growth_mb:.1f} MB"
    )
    assert growth_mb < 64, f"control plane grew by {growth_mb:.0f} MB while storing 50 MB"
    logs = server.client("logs")
    stream = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"][0]
    assert stream["storedBytes"] >= lines * width


@pytest.mark.docker
def test_report_measures_max_memory(docker_server: Server) -> None:
    import base64

    server = docker_server
    name = create(server, "observed.allocate", MemorySize=512)

    def max_memory(mb: int) -> int:
        response = invoke(server, name, {"mb": mb}, LogType="Tail")
        report = base64.b64decode(response["LogResult"]).decode().splitlines()[-1]
        return int(first_group(r"Max Memory Used: (\d+) MB", report))

    first = max_memory(0)
    second = max_memory(100)
    assert second - first >= 95, (first, second)


# -- lambkin logs --follow ------------------------------------------------------------------------


def test_cli_follow_shows_new_lines_within_a_second(server: Server) -> None:
    name = create(server, "observed.print_then")
    invoke(server, name, {"marker": "warm-up"})
    cli = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "logs", name, "--follow", "--since", "1m",
         "--endpoint", server.endpoint],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        seen: dict[str, float] = {}
        assert cli.stdout is not None
        output = cli.stdout

        def read() -> None:
            for line in output:
                # "<time> <instance> <origin> <message>"
                seen.setdefault(line.split(" ", 3)[-1].strip(), time.monotonic())

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 10
        while "warm-up" not in seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "warm-up" in seen
        marker = f"fresh {uuid.uuid4().hex}"
        printed_at = time.monotonic()
        threading.Thread(
            target=invoke,
            args=(server, name, {"marker": marker, "then": "sleep", "seconds": 3}),
            daemon=True,
        ).start()
        while marker not in seen and time.monotonic() < printed_at + 5:
            time.sleep(0.01)
        assert marker in seen
        assert seen[marker] - printed_at < 1.0, (
            f"shown {seen[marker] - printed_at:.2f} s after the invoke"
        )
    finally:
        cli.terminate()
        cli.wait(5)
