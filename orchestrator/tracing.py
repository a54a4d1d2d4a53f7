"""Tracing with OpenTelemetry: one trace per invocation, X-Ray's shape.

The control plane's span `Invoke <function>` starts when the invocation is admitted and ends when
it is answered; inside it, `Init` (cold starts only) and `Invocation` are created afterwards from
the timings the agent reports (Lambkin-Init-Duration-Ms, Lambkin-Duration-Ms), with explicit
start and end times, as X-Ray records a function's Initialization and Invocation subsegments.
Nothing is added to the invoke path beyond creating three span objects.

Trace ids: the caller's `X-Amzn-Trace-Id` (Root=1-xxxxxxxx-yyyy...) or W3C `traceparent`; both
name the same 128-bit id (X-Ray's root is its epoch-seconds prefix plus 96 bits). The runtime
gets `Root=...;Parent=<control-plane span id>;Sampled=1` as Lambda-Runtime-Trace-Id.

Sampling, as Lambda decides it: a caller's `Sampled=1` or `Sampled=0` is kept; a header with no
decision (only `Root=`, or `Sampled=?`) is sampled under TracingConfig Active by X-Ray's default
rule (`XRaySampler`: the first request each second, then 5%), and not under PassThrough, which
traces only what arrives with `Sampled=1`.

Finished spans go to an OTLP/HTTP endpoint when one is configured, and always to a bounded
in-memory ring of recent traces that `/lambkin/traces` serves.

The X-Ray SDK inside a function sends its segments to the agent's daemon address; they reach us
through the log writer (runtime-images/agent/xray.go, log_writer.py) tagged with the function
and request id, and `fold_segments` adds them to that invocation's trace. Only to that one: the
invocation must be one we are expecting segments for (sampled, recent), of the same function,
and every span must name its trace. So a function cannot write into another's traces, nor into
a trace of its own it has no invocation in.
"""

from __future__ import annotations

import contextvars
import logging
import os
import random
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace as otel
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Status, StatusCode

from .xray_segments import SegmentError, SegmentSpan, segment_spans

log = logging.getLogger(__name__)

_NEXT_TRACE_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "lambkin_trace_id", default=None
)
_NEXT_SPAN_ID: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "lambkin_span_id", default=None
)


@dataclass(frozen=True)
class TraceContext:
    trace_id: int  # 128 bits
    parent_span_id: int | None
    sampled: bool | None  # None: the caller made no decision (resolved by `decided`)

    def decided(self, tracing_mode: str, sampler: XRaySampler) -> TraceContext:
        """This context with a sampling decision: the caller's, else the function's mode's."""
        if self.sampled is not None:
            return self
        sampled = tracing_mode == "Active" and sampler.sample()
        return TraceContext(self.trace_id, self.parent_span_id, sampled)

    @property
    def root(self) -> str:
        hex_id = f"{self.trace_id:032x}"
        return f"1-{hex_id[:8]}-{hex_id[8:]}"

    def xray(self, parent_span_id: int | None = None) -> str:
        parent = parent_span_id if parent_span_id is not None else self.parent_span_id
        text = f"Root={self.root}"
        if parent:
            text += f";Parent={parent:016x}"
        return text + f";Sampled={1 if self.sampled else 0}"

    def traceparent(self, span_id: int) -> str:
        return f"00-{self.trace_id:032x}-{span_id:016x}-{'01' if self.sampled else '00'}"


class XRaySampler:
    """X-Ray's default sampling rule: a reservoir of one request a second, then a fixed 5%."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        rate: Callable[[], float] = random.random,
        reservoir_per_s: int = 1,
        fixed_rate: float = 0.05,
    ) -> None:
        self._clock, self._rate = clock, rate
        self._reservoir, self._fixed_rate = reservoir_per_s, fixed_rate
        self._second, self._taken = -1, 0
        self._lock = threading.Lock()

    def sample(self) -> bool:
        with self._lock:
            second = int(self._clock())
            if second != self._second:
                self._second, self._taken = second, 0
            if self._taken < self._reservoir:
                self._taken += 1
                return True
        return self._rate() < self._fixed_rate


def new_context() -> TraceContext:
    """X-Ray style: the first 32 bits are the epoch seconds."""
    return TraceContext((int(time.time()) << 96) | random.getrandbits(96), None, True)


def parse_xray(header: str | None) -> TraceContext | None:
    if not header:
        return None
    fields = dict(part.strip().partition("=")[::2] for part in header.split(";") if "=" in part)
    root = fields.get("Root", "")
    pieces = root.split("-")
    if len(pieces) != 3 or pieces[0] != "1" or len(pieces[1]) != 8 or len(pieces[2]) != 24:
        return None
    try:
        trace_id = int(pieces[1] + pieces[2], 16)
        parent = int(fields["Parent"], 16) if len(fields.get("Parent", "")) == 16 else None
    except ValueError:
        return None
    decision = fields.get("Sampled")
    return TraceContext(trace_id, parent, None if decision in (None, "?") else decision != "0")


def parse_traceparent(header: str | None) -> TraceContext | None:
    if not header:
        return None
    pieces = header.strip().split("-")
    if len(pieces) < 4 or len(pieces[1]) != 32 or len(pieces[2]) != 16 or len(pieces[3]) != 2:
        return None
    try:
        trace_id, parent, flags = int(pieces[1], 16), int(pieces[2], 16), int(pieces[3], 16)
    except ValueError:
        return None
    if trace_id == 0 or parent == 0:
        return None
    return TraceContext(trace_id, parent, bool(flags & 1))


def incoming_context(xray: str | None, traceparent: str | None) -> TraceContext:
    """The caller's trace (X-Ray header first, then W3C), or a new one."""
    return parse_xray(xray) or parse_traceparent(traceparent) or new_context()


def new_span_id() -> int:
    return random.getrandbits(64) or 1


class _PresetIds(IdGenerator):
    """Ids decided before the span object exists (the trace id from the caller's header, the
    invocation span's id handed to the runtime up front), through context variables."""

    def __init__(self) -> None:
        self._rng = random.Random()

    def generate_span_id(self) -> int:
        preset = _NEXT_SPAN_ID.get()
        return preset if preset is not None else self._rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        preset = _NEXT_TRACE_ID.get()
        return preset if preset is not None else self._rng.getrandbits(128) or 1


class RecentTraces(SpanExporter):
    """The last `max_traces` traces, in memory, for the admin endpoint."""

    def __init__(self, max_traces: int = 1000) -> None:
        self._max = max_traces
        self._lock = threading.Lock()
        self._traces: OrderedDict[int, list[ReadableSpan]] = OrderedDict()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            for span in spans:
                trace_id = span.context.trace_id
                self._traces.setdefault(trace_id, []).append(span)
                self._traces.move_to_end(trace_id)
            while len(self._traces) > self._max:
                self._traces.popitem(last=False)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass

    def trace(self, trace_id: int) -> list[dict[str, Any]] | None:
        with self._lock:
            spans = list(self._traces.get(trace_id, ()))
        return (
            [render_span(s) for s in sorted(spans, key=lambda s: s.start_time or 0)]
            if spans
            else None
        )

    def recent(self, limit: int, function: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            traces = list(self._traces.items())[::-1]
        out = []
        for trace_id, spans in traces:
            root = next((s for s in spans if s.name.startswith("Invoke ")), None)
            if root is None or (function and (root.attributes or {}).get("faas.name") != function):
                continue
            out.append(
                {"traceId": f"{trace_id:032x}", "root": render_span(root), "spans": len(spans)}
            )
            if len(out) >= limit:
                break
        return out


def render_span(span: ReadableSpan) -> dict[str, Any]:
    parent = span.parent.span_id if span.parent is not None else None
    return {
        "name": span.name,
        "traceId": f"{span.context.trace_id:032x}",
        "spanId": f"{span.context.span_id:016x}",
        "parentSpanId": f"{parent:016x}" if parent else None,
        "startTimeUnixNano": span.start_time,
        "endTimeUnixNano": span.end_time,
        "durationMs": round(((span.end_time or 0) - (span.start_time or 0)) / 1e6, 3),
        "status": span.status.status_code.name,
        "statusMessage": span.status.description,  # why it failed, where that is known
        "attributes": dict(span.attributes or {}),
    }


@dataclass
class _Expected:
    """A sampled invocation whose function may still send X-Ray segments."""

    function: str
    trace_id: int
    span_id: int  # the control plane's span: the runtime's Parent
    folded: int = 0


# Invocations expected to send segments, newest last: enough for the log writer's delay
# (under a second) at thousands of sampled invocations a second.
MAX_EXPECTED = 20_000
MAX_SEGMENTS_PER_INVOCATION = 1000  # as the agent's bound (xray.go)
_XRAY_SCOPE = InstrumentationScope("aws-xray-sdk")


class Tracing:
    def __init__(
        self,
        otlp_endpoint: str | None = None,
        max_traces: int = 1000,
        service_name: str = "lambkin",
    ) -> None:
        self.recent = RecentTraces(max_traces)
        self._provider = TracerProvider(
            resource=Resource.create({"service.name": service_name}), id_generator=_PresetIds()
        )
        self._processors: list[SpanProcessor] = []
        self._add(SimpleSpanProcessor(self.recent))
        self._expected: OrderedDict[str, _Expected] = OrderedDict()
        self._expected_lock = threading.Lock()
        self.segments = {"folded": 0, "refused": 0, "unexpected": 0}
        self.exporting = False
        endpoint = (
            otlp_endpoint
            or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        )
        if endpoint:
            self._export_to(endpoint)
        self._tracer = self._provider.get_tracer("lambkin")

    def _export_to(self, endpoint: str) -> None:
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            from opentelemetry.sdk.trace.export import BatchSpanProcessor
        except ImportError:
            log.warning(
                "OTLP endpoint %s configured but opentelemetry-exporter-otlp-proto-http "
                "is not installed",
                endpoint,
            )
            return
        url = (
            endpoint
            if endpoint.rstrip("/").endswith("/v1/traces")
            else endpoint.rstrip("/") + "/v1/traces"
        )
        self._add(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
        self.exporting = True
        log.info("exporting traces to %s", url)

    def _add(self, processor: SpanProcessor) -> None:
        # Kept too, for the spans we build from X-Ray segments rather than start ourselves.
        self._provider.add_span_processor(processor)
        self._processors.append(processor)

    def expect_segments(self, request_id: str, function: str, trace_id: int, span_id: int) -> None:
        """The function may send X-Ray segments for this invocation (it is sampled)."""
        with self._expected_lock:
            self._expected[request_id] = _Expected(function, trace_id, span_id)
            if len(self._expected) > MAX_EXPECTED:
                self._expected.popitem(last=False)

    def fold_segments(self, segments: Sequence[tuple[str, str, str]]) -> None:
        """Each (function, request id, document) the log writer found: its spans, in the
        invocation's trace, or nothing (counted in `segments`) when they may not go there."""
        now_s = time.time()
        for function, request_id, document in segments:
            with self._expected_lock:
                expected = self._expected.get(request_id)
            if expected is None or expected.function != function:
                self.segments["unexpected"] += 1
                continue
            try:
                spans = segment_spans(document, now_s)
                for span in spans:
                    if span.trace_id != expected.trace_id:
                        raise SegmentError("a segment of another trace")
                    if span.span_id == expected.span_id:
                        raise SegmentError("a segment with the invocation's own id")
            except SegmentError as refused:
                self.segments["refused"] += 1
                log.info("X-Ray segment of %s refused: %s", function, refused)
                continue
            if expected.folded + len(spans) > MAX_SEGMENTS_PER_INVOCATION:
                self.segments["refused"] += 1
                continue
            expected.folded += len(spans)
            for span in spans:
                readable = self._readable(span, expected.span_id)
                for processor in self._processors:
                    processor.on_end(readable)
            self.segments["folded"] += 1

    def _readable(self, span: SegmentSpan, invocation_span_id: int) -> ReadableSpan:
        flags = otel.TraceFlags(otel.TraceFlags.SAMPLED)
        parent = span.parent_id if span.parent_id is not None else invocation_span_id
        return ReadableSpan(
            span.name,
            context=otel.SpanContext(span.trace_id, span.span_id, False, trace_flags=flags),
            parent=otel.SpanContext(span.trace_id, parent, False, trace_flags=flags),
            resource=self._provider.resource,
            attributes=span.attributes,
            kind=otel.SpanKind.CLIENT if span.client else otel.SpanKind.INTERNAL,
            status=Status(StatusCode.ERROR, span.error) if span.error else Status(StatusCode.UNSET),
            start_time=span.start_ns,
            end_time=span.end_ns,
            instrumentation_scope=_XRAY_SCOPE,
        )

    def start_invocation(
        self,
        context: TraceContext,
        function: str,
        request_id: str,
        span_id: int | None = None,
        start_ns: int | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> otel.Span:
        """The control plane's span; `span_id` when the runtime was already told its id."""
        parent = None
        if context.parent_span_id:
            remote = otel.SpanContext(
                context.trace_id, context.parent_span_id, is_remote=True,
                trace_flags=otel.TraceFlags(otel.TraceFlags.SAMPLED),
            )  # fmt: skip
            parent = otel.set_span_in_context(otel.NonRecordingSpan(remote))
        token = _NEXT_TRACE_ID.set(context.trace_id)
        span_token = _NEXT_SPAN_ID.set(span_id)
        try:
            return self._tracer.start_span(
                f"Invoke {function}", context=parent, kind=otel.SpanKind.SERVER,
                start_time=start_ns,
                attributes={"faas.name": function, "faas.invocation_id": request_id,
                            "cloud.provider": "lambkin", **(attributes or {})},
            )  # fmt: skip
        finally:
            _NEXT_SPAN_ID.reset(span_token)
            _NEXT_TRACE_ID.reset(token)

    def child(
        self, parent: otel.Span, name: str, start_ns: int, end_ns: int, attributes: dict[str, Any]
    ) -> None:
        span = self._tracer.start_span(
            name,
            context=otel.set_span_in_context(parent),
            start_time=start_ns,
            attributes=attributes,
        )
        span.end(end_time=max(start_ns, end_ns))

    def shutdown(self) -> None:
        self._provider.shutdown()
