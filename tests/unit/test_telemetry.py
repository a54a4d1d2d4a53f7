"""Trace header parsing, span shape from agent timings, metric labels (pure, no server)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from orchestrator.agent_client import AgentResult
from orchestrator.instance import Event, Instance, StopReason
from orchestrator.metrics import OTHER_FUNCTIONS, Metrics, invocation_outcome
from orchestrator.telemetry import Telemetry
from orchestrator.tracing import (
    Tracing,
    XRaySampler,
    incoming_context,
    parse_traceparent,
    parse_xray,
)


def result(outcome: str = "success", init_ms: float | None = None) -> AgentResult:
    return AgentResult(outcome, b"{}", "application/json", None, 12.5, init_ms, 40, "")


def test_xray_and_w3c_name_the_same_trace() -> None:
    xray = parse_xray("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    w3c = parse_traceparent("00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01")
    assert xray == w3c
    assert xray is not None and xray.root == "1-5759e988-bd862e3fe1be46a994272793"
    assert (
        xray.xray(0xABC)
        == "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=0000000000000abc;Sampled=1"
    )
    assert parse_xray("Root=nonsense") is None and parse_traceparent("00-00-00-00") is None
    unsampled = parse_xray("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0")
    assert unsampled is not None and unsampled.sampled is False
    fresh = incoming_context(None, None)
    assert fresh.parent_span_id is None and fresh.sampled


def test_cold_invocation_has_init_and_invocation_children() -> None:
    telemetry = Telemetry(Metrics(), Tracing())
    obs = telemetry.begin(
        "fn", "rid", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    )
    assert (
        obs.runtime_header
        == f"Root=1-5759e988-bd862e3fe1be46a994272793;Parent={obs.span_id:016x};Sampled=1"
    )
    obs.acquired(True)
    obs.completed(result(init_ms=80.0))
    obs.end()
    spans = {
        s["name"]: s
        for s in telemetry.tracing.recent.trace(0x5759E988BD862E3FE1BE46A994272793) or []
    }
    assert set(spans) == {"Invoke fn", "Init", "Invocation"}
    assert spans["Invoke fn"]["parentSpanId"] == "53995c3f42cd8ad8"
    assert (
        spans["Init"]["parentSpanId"]
        == spans["Invocation"]["parentSpanId"]
        == spans["Invoke fn"]["spanId"]
    )
    assert (
        abs(spans["Init"]["durationMs"] - 80.0) < 0.01
        and abs(spans["Invocation"]["durationMs"] - 12.5) < 0.01
    )
    assert spans["Init"]["endTimeUnixNano"] == spans["Invocation"]["startTimeUnixNano"]

    warm = telemetry.begin("fn", "rid2", None)
    warm.acquired(False)
    warm.completed(result())
    warm.end()
    assert sorted(
        s["name"] for s in telemetry.tracing.recent.trace(warm.context.trace_id) or []
    ) == ["Invocation", "Invoke fn"]


def test_metric_labels_are_bounded_and_closed() -> None:
    metrics = Metrics(max_functions=2)
    for name in ("a", "b", "c", "d"):
        metrics.invoked(name, "success", 0.01, None, False)
    metrics.throttled("a")
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    functions = {s.labels["function"] for s in families["lambkin_invocations"].samples}
    assert functions == {"a", "b", OTHER_FUNCTIONS}
    assert invocation_outcome("exit") == invocation_outcome("init_error") == "function_error"
    assert invocation_outcome("timeout") == "timeout"


def test_stop_reasons_are_the_closed_enum_as_labels() -> None:
    metrics = Metrics()
    for reason in (StopReason.OOM, StopReason.IDLE, StopReason.OOM):
        instance = Instance("fn", "r1")
        instance.stop_reason = reason
        metrics.instance_stopped(instance)
    stops = {
        s.labels["reason"]: s.value
        for f in text_string_to_metric_families(metrics.render().decode())
        for s in f.samples
        if s.name == "lambkin_instance_stops_total"
    }
    assert stops == {"oom": 2, "idle": 1}


def test_instances_by_state_are_read_at_scrape_time() -> None:
    metrics = Metrics()
    instances = [Instance("fn", "r1"), Instance("fn", "r1")]
    instances[0].fire(Event.CLAIM)
    metrics.watch_instances(lambda: instances)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for f in text_string_to_metric_families(metrics.render().decode())
        for s in f.samples
    }
    assert samples[("lambkin_instances", (("function", "fn"), ("state", "busy")))] == 1
    assert samples[("lambkin_instances", (("function", "fn"), ("state", "starting")))] == 1
    assert samples[("lambkin_concurrent_executions", (("function", "fn"),))] == 1


def test_spans_are_exported_over_otlp_when_an_endpoint_is_set() -> None:
    import http.server
    import threading

    import pytest

    pytest.importorskip("opentelemetry.exporter.otlp.proto.http.trace_exporter")
    received: list[tuple[str, str, int]] = []

    class Collector(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, self.headers["Content-Type"], len(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        tracing = Tracing(otlp_endpoint=f"http://127.0.0.1:{server.server_port}")
        assert tracing.exporting
        obs = Telemetry(Metrics(), tracing).begin("fn", "rid", None)
        obs.completed(result(init_ms=5.0))
        obs.end()
        tracing.shutdown()  # flushes the batch
    finally:
        server.shutdown()
    assert (
        received and received[0][0] == "/v1/traces" and received[0][1] == "application/x-protobuf"
    )


ROOT_ONLY = "Root=1-5759e988-bd862e3fe1be46a994272793"


def test_a_root_without_a_decision_is_decided_by_the_tracing_mode() -> None:
    """Lambda's semantics: PassThrough traces only `Sampled=1`; Active samples an undecided
    header by X-Ray's default rule; a caller's own decision is kept either way."""
    for header in (ROOT_ONLY, ROOT_ONLY + ";Sampled=?"):
        parsed = parse_xray(header)
        assert parsed is not None and parsed.sampled is None
    telemetry = Telemetry(Metrics(), Tracing(), XRaySampler(rate=lambda: 0.99))
    table = [
        (ROOT_ONLY, "PassThrough", "Sampled=0"),
        (ROOT_ONLY + ";Sampled=?", "PassThrough", "Sampled=0"),
        (ROOT_ONLY, "Active", "Sampled=1"),  # the reservoir's one a second
        (ROOT_ONLY + ";Sampled=0", "Active", "Sampled=0"),
        (ROOT_ONLY + ";Sampled=1", "PassThrough", "Sampled=1"),
    ]
    for header, mode, expected in table:
        obs = telemetry.begin("fn", "rid", header, tracing_mode=mode)
        assert obs.runtime_header.startswith(ROOT_ONLY + ";Parent="), header
        assert obs.runtime_header.endswith(expected), (header, mode, obs.runtime_header)


def test_xray_default_rule_one_a_second_then_five_percent() -> None:
    now = [100.0]
    draws = iter([0.5, 0.01, 0.5])
    sampler = XRaySampler(clock=lambda: now[0], rate=lambda: next(draws))
    assert sampler.sample()  # the reservoir's one for second 100
    assert not sampler.sample()  # 0.5 >= 5%
    assert sampler.sample()  # 0.01 < 5%
    assert not sampler.sample()
    now[0] = 101.2
    assert sampler.sample()  # a new second refills the reservoir
