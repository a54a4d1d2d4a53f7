"""/metrics (parsed with prometheus-client's own parser) and invocation traces, on a real server."""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_logs import ROLE, ZIP, metric, metrics
from tests.support.server import Server, start_server

DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"obs-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


def create(server: Server, handler: str, **extra: Any) -> str:
    lam = server.client()
    name = f"obs-{uuid.uuid4().hex[:8]}"
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


def raw_invoke(
    server: Server, name: str, headers: dict[str, str], payload: bytes = b"{}"
) -> tuple[dict[str, str], Any]:
    request = urllib.request.Request(
        f"{server.endpoint}/2015-03-31/functions/{name}/invocations",
        data=payload,
        method="POST",
        headers=headers,
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return {k.lower(): v for k, v in response.headers.items()}, json.loads(response.read())


def get_json(server: Server, path: str) -> Any:
    with urllib.request.urlopen(f"{server.endpoint}{path}", timeout=5) as response:
        return json.loads(response.read())


def test_metrics_parse_and_count_exactly_what_happened(server: Server) -> None:
    lam = server.client()
    name = create(server, "observed.maybe_fail")
    before = metrics(server)
    for _ in range(3):
        lam.invoke(FunctionName=name, Payload=b"{}")
    for _ in range(2):
        assert (
            lam.invoke(FunctionName=name, Payload=b'{"fail": true}')["FunctionError"] == "Unhandled"
        )
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    for _ in range(2):
        with pytest.raises(lam.exceptions.TooManyRequestsException):
            lam.invoke(FunctionName=name, Payload=b"{}")
    lam.delete_function_concurrency(FunctionName=name)

    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=5) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        families = {f.name: f for f in text_string_to_metric_families(response.read().decode())}
    for family in ("lambkin_invocations", "lambkin_invocation_duration_seconds",
                   "lambkin_init_duration_seconds", "lambkin_cold_starts", "lambkin_instances",
                   "lambkin_concurrent_executions", "lambkin_instance_starts",
                   "lambkin_log_lines_stored", "lambkin_async_queue_depth"):  # fmt: skip
        assert family in families, family

    after = metrics(server)

    def delta(metric_name: str, **labels: str) -> float:
        return metric(after, metric_name, **labels) - metric(before, metric_name, **labels)

    assert delta("lambkin_invocations_total", function=name, outcome="success") == 3
    assert delta("lambkin_invocations_total", function=name, outcome="function_error") == 2
    assert delta("lambkin_invocations_total", function=name, outcome="throttle") == 2
    assert delta("lambkin_invocations_total", function=name, outcome="timeout") == 0
    assert delta("lambkin_invocation_duration_seconds_count", function=name) == 5
    assert delta("lambkin_cold_starts_total", function=name) == 1
    assert delta("lambkin_init_duration_seconds_count", function=name) == 1
    assert delta("lambkin_instance_starts_total", function=name) == 1
    assert metric(after, "lambkin_instances", function=name, state="idle") == 1

    lam.delete_function(FunctionName=name)  # retires the instance: a stop, reason deleted
    for _ in range(100):
        stopped = metric(
            metrics(server), "lambkin_instance_stops_total", function=name, reason="deleted"
        )
        if stopped:
            break
        __import__("time").sleep(0.05)
    assert stopped == 1


def test_cold_trace_has_init_and_invocation_spans_warm_has_no_init(server: Server) -> None:
    name = create(server, "observed.trace_env")
    root = f"1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"
    caller = f"Root={root};Parent=53995c3f42cd8ad8;Sampled=1"
    headers, body = raw_invoke(server, name, {"X-Amzn-Trace-Id": caller})
    assert body["env"].startswith(f"Root={root};Parent=")  # the handler's _X_AMZN_TRACE_ID
    assert headers["x-amzn-trace-id"] == caller  # returned as sent

    trace = get_json(server, f"/lambkin/traces/{root}")
    spans = {s["name"]: s for s in trace["Spans"]}
    assert set(spans) == {f"Invoke {name}", "Init", "Invocation"}
    invoke_span = spans[f"Invoke {name}"]
    assert invoke_span["parentSpanId"] == "53995c3f42cd8ad8"  # the caller's segment
    assert (
        spans["Init"]["parentSpanId"]
        == spans["Invocation"]["parentSpanId"]
        == invoke_span["spanId"]
    )
    assert body["env"] == f"Root={root};Parent={invoke_span['spanId']};Sampled=1"
    assert spans["Init"]["endTimeUnixNano"] <= spans["Invocation"]["startTimeUnixNano"]
    assert spans["Invocation"]["endTimeUnixNano"] <= invoke_span["endTimeUnixNano"]
    assert invoke_span["attributes"]["faas.coldstart"] is True

    trace_hex = uuid.uuid4().hex
    headers, body = raw_invoke(server, name, {"traceparent": f"00-{trace_hex}-00f067aa0ba902b7-01"})
    assert body["env"].startswith(f"Root=1-{trace_hex[:8]}-{trace_hex[8:]};Parent=")
    assert headers["traceparent"].startswith(f"00-{trace_hex}-")
    warm = get_json(server, f"/lambkin/traces/{trace_hex}")
    names = sorted(s["name"] for s in warm["Spans"])
    assert names == sorted([f"Invoke {name}", "Invocation"]), "a warm invocation has no Init span"

    recent = get_json(server, f"/lambkin/traces?function={name}")["Traces"]
    assert [t["traceId"] for t in recent][:2] == [trace_hex, root[2:].replace("-", "")]
