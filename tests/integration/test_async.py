"""Asynchronous invocation: durable queue, retries, event age, destinations, dead letters."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Client, Server, start_server
from tests.support.sink import Sink, docker_gateway
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
APP = make_zip(
    {
        "app.py": """
import json, os, time, urllib.request

def report(topic, body):
    request = urllib.request.Request(os.environ["SINK"] + "/" + topic,
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["count"]

def record(event, context):
    time.sleep(event.get("sleep", 0))
    report("runs", {"id": context.aws_request_id, "n": event.get("n")})
    return {"ok": event.get("n")}

def capture(event, context):
    report("captured", {"id": context.aws_request_id, "event": event})

def flaky(event, context):
    attempt = report("attempts", {"id": context.aws_request_id})
    if attempt < event.get("succeed_on", 3):
        raise RuntimeError(f"attempt {attempt} fails")
    return {"succeeded_on": attempt}
"""
    }
)
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]
FAST = {
    "LAMBKIN_ASYNC_RETRY_DELAYS_S": "[0.2, 0.4]",
    "LAMBKIN_ASYNC_MAX_IN_FLIGHT": "4",
    "LAMBKIN_ASYNC_PLATFORM_RETRY_MAX_S": "0.5",
}


@pytest.fixture(scope="module", params=DRIVERS)
def driver(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def sink(driver: str) -> Iterator[Sink]:
    """Reachable from the functions (bridge gateway for containers) and from the control plane."""
    s = Sink(docker_gateway() if driver == "docker" else "127.0.0.1")
    yield s
    s.close()


@pytest.fixture(scope="module")
def server(driver: str, sink: Sink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # The sink listens on the host: its port is one meant for instances (all others are shut).
    env = {**FAST, "LAMBKIN_INSTANCE_HOST_PORTS": json.dumps([sink.port])}
    srv = start_server(driver, tmp_path_factory.mktemp(f"async-{driver}"), env=env)
    yield srv
    assert srv.stop() == 0, srv.log()


def create(lam: Client, sink: Sink, handler: str = "app.record", **extra: Any) -> str:
    name = f"a-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler=handler, Code={"ZipFile": APP},
        Environment={"Variables": {"SINK": sink.url}}, Timeout=10, **extra,
    )  # fmt: skip
    return name


def wait_until(predicate: Callable[[], object], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def test_500_events_run_exactly_once(server: Server, sink: Sink) -> None:
    lam = server.client()
    name = create(lam, sink)
    request_ids = []
    for n in range(500):
        response = lam.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": n})
        )
        assert response["StatusCode"] == 202
        request_ids.append(response["ResponseMetadata"]["RequestId"])
    assert wait_until(lambda: len(sink.topic("runs")) >= 500, timeout=120), len(sink.topic("runs"))
    time.sleep(0.5)  # a duplicate would show up here
    runs = Counter(r["id"] for r in sink.topic("runs"))
    assert set(runs) == set(request_ids)
    assert max(runs.values()) == 1, "with a succeeding function each event runs exactly once"
    assert sorted(r["n"] for r in sink.topic("runs")) == list(range(500))


def test_retries_keep_the_request_id_and_end_in_success(server: Server, sink: Sink) -> None:
    lam = server.client()
    name = create(lam, sink, "app.flaky")
    lam.put_function_event_invoke_config(
        FunctionName=name,
        DestinationConfig={"OnSuccess": {"Destination": f"{sink.url}/success-{name}"}},
    )
    request_id = lam.invoke(
        FunctionName=name, InvocationType="Event", Payload=b'{"succeed_on": 3}'
    )["ResponseMetadata"]["RequestId"]
    assert wait_until(lambda: sink.topic(f"success-{name}"), timeout=30)
    [record] = sink.topic(f"success-{name}")
    assert record["requestContext"]["requestId"] == request_id
    assert record["requestContext"]["condition"] == "Success"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["responsePayload"] == {"succeeded_on": 3}
    assert [a["id"] for a in sink.topic("attempts") if a["id"] == request_id] == [request_id] * 3
    metrics = _metrics(server)
    assert metrics[("lambkin_async_retries_total", (("function", name),))] == 2
    assert metrics[("lambkin_async_event_age_seconds_count", (("function", name),))] == 3
    assert metrics[("lambkin_async_destination_deliveries_total", (("result", "delivered"),))] >= 1


def _metrics(server: Server) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    text = _admin(server, "GET", "/metrics").decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_no_retries_goes_straight_to_the_failure_destination(server: Server, sink: Sink) -> None:
    lam = server.client()
    name = create(lam, sink, "app.flaky")
    config = lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": f"{sink.url}/failure-{name}"}},
    )
    assert config["MaximumRetryAttempts"] == 0
    assert lam.get_function_event_invoke_config(FunctionName=name)["DestinationConfig"][
        "OnFailure"
    ]["Destination"].endswith(name)
    request_id = lam.invoke(
        FunctionName=name, InvocationType="Event", Payload=b'{"succeed_on": 2}'
    )["ResponseMetadata"]["RequestId"]
    assert wait_until(lambda: sink.topic(f"failure-{name}"), timeout=30)
    [record] = sink.topic(f"failure-{name}")
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["requestPayload"] == {"succeed_on": 2}
    assert [a for a in sink.topic("attempts") if a["id"] == request_id] == [{"id": request_id}]
    # the built-in dead-letter store has it, and a replay runs it again
    dead = json.loads(_admin(server, "GET", f"/lambkin/dlq/{name}"))["Events"]
    assert [d["RequestId"] for d in dead] == [request_id] and dead[0][
        "Condition"
    ] == "RetriesExhausted"
    assert json.loads(_admin(server, "POST", f"/lambkin/dlq/{name}/replay", b"{}"))["Replayed"] == 1
    assert wait_until(
        lambda: len([a for a in sink.topic("attempts") if a["id"] == request_id]) == 2, timeout=30
    )


def test_function_destination_receives_the_record(server: Server, sink: Sink) -> None:
    lam = server.client()
    target = create(lam, sink, "app.capture")
    name = create(lam, sink, "app.flaky")
    target_arn = lam.get_function(FunctionName=target)["Configuration"]["FunctionArn"]
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": target_arn}},
    )
    request_id = lam.invoke(
        FunctionName=name,
        InvocationType="Event",
        Payload=b'{"succeed_on": 5, "n": "via-destination"}',
    )["ResponseMetadata"]["RequestId"]

    def delivered() -> list[dict[str, Any]]:
        return [
            c["event"]
            for c in sink.topic("captured")
            if c["event"].get("requestContext", {}).get("requestId") == request_id
        ]

    assert wait_until(delivered, timeout=30)
    [record] = delivered()
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestPayload"] == {"succeed_on": 5, "n": "via-destination"}
    assert record["responsePayload"]["errorType"] == "RuntimeError"


def _admin(server: Server, method: str, path: str, body: bytes | None = None) -> bytes:
    import urllib.request

    request = urllib.request.Request(server.endpoint + path, data=body, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        data: bytes = response.read()
        return data


def _raw_error(server: Server, method: str, path: str, body: bytes) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(
            urllib.request.Request(server.endpoint + path, data=body, method=method), timeout=10
        )
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("x-amzn-ErrorType", "")
    return 200, ""


def test_bad_input(server: Server, sink: Sink) -> None:
    lam = server.client()
    name = create(lam, sink, "app.record")
    lam.put_function_concurrency(
        FunctionName=name, ReservedConcurrentExecutions=0
    )  # queue but hold
    held = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": "held"}')[
        "ResponseMetadata"
    ]["RequestId"]
    with pytest.raises(lam.exceptions.ClientError) as raised:
        lam.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"x": "y" * 1_100_000})
        )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert raised.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    for bad in (
        {"MaximumRetryAttempts": 3},
        {"MaximumEventAgeInSeconds": 59},
        {"MaximumEventAgeInSeconds": 21601},
        {"MaximumRetryAttempts": "2"},
    ):
        # raw HTTP: botocore refuses some of these values itself, before sending them
        status, error_type = _raw_error(
            server,
            "PUT",
            f"/2019-09-25/functions/{name}/event-invoke-config",
            json.dumps(bad).encode(),
        )
        assert (status, error_type) == (400, "ValidationException"), bad
    for destination in (
        "arn:aws:sqs:us-east-1:123456789012:queue",
        "arn:aws:lambda:us-east-1:123456789012:function:ghost",
    ):
        with pytest.raises(lam.exceptions.InvalidParameterValueException):
            lam.put_function_event_invoke_config(
                FunctionName=name, DestinationConfig={"OnFailure": {"Destination": destination}}
            )
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function_event_invoke_config(FunctionName=name)
    # nothing already queued was lost: release the hold and the held event runs
    lam.delete_function_concurrency(FunctionName=name)
    assert wait_until(lambda: any(r["id"] == held for r in sink.topic("runs")), timeout=30)


def test_kill_9_loses_no_accepted_event(driver: str, sink: Sink, tmp_path: Path) -> None:
    env = {**FAST, "LAMBKIN_ASYNC_MAX_IN_FLIGHT": "1"}
    server = start_server(driver, tmp_path, env=env)
    lam = server.client()
    name = create(lam, sink)
    accepted = [
        lam.invoke(
            FunctionName=name, InvocationType="Event", Payload=json.dumps({"n": n, "sleep": 0.05})
        )["ResponseMetadata"]["RequestId"]
        for n in range(200)
    ]
    server.stop(signal.SIGKILL)
    ran_before = {r["id"] for r in sink.topic("runs")} & set(accepted)
    assert len(ran_before) < 200, "the kill came before every event had run"
    restarted = start_server(driver, tmp_path, env=env)
    try:
        assert wait_until(
            lambda: set(accepted) <= {r["id"] for r in sink.topic("runs")}, timeout=90
        )
    finally:
        assert restarted.stop() == 0


def test_event_older_than_its_maximum_age_is_dropped_not_run(
    driver: str, sink: Sink, tmp_path: Path
) -> None:
    server = start_server(driver, tmp_path, env=FAST)
    lam = server.client()
    name = create(lam, sink)
    lam.put_function_event_invoke_config(
        FunctionName=name,
        MaximumEventAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": f"{sink.url}/aged-{name}"}},
    )
    assert server.stop() == 0
    # An event accepted 2 minutes ago, while the server was down until now.
    request_id = str(uuid.uuid4())
    with sqlite3.connect(tmp_path / "events.db") as db:
        db.execute(
            "INSERT INTO events"
            " (request_id, function, payload, received_at, next_attempt_at, state)"
            " VALUES (?, ?, ?, ?, ?, 'pending')",
            (request_id, name, b'{"n": "aged"}', time.time() - 120, time.time() - 120),
        )
    restarted = start_server(driver, tmp_path, env=FAST)
    try:
        assert wait_until(lambda: sink.topic(f"aged-{name}"), timeout=30)
        [record] = sink.topic(f"aged-{name}")
        assert record["requestContext"]["condition"] == "EventAgeExceeded"
        assert record["requestContext"]["requestId"] == request_id
        assert not any(r["id"] == request_id for r in sink.topic("runs")), (
            "an expired event is not run"
        )
    finally:
        assert restarted.stop() == 0
