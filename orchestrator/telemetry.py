"""What the invoker reports about each invocation: metrics and a trace, from one observation.

The invoker calls `begin` once it knows the function, then `acquired`, then exactly one of
`completed` / `failed`, then `end`. Metrics are counted at once (a few microseconds). The spans
are built at `end`, from the timings the agent already returns, and scheduled to run after the
response is on its way (`loop.call_soon`): the invocation span's id is chosen up front (the
runtime gets it as Parent in its trace header), so nothing else needs the span object earlier.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import Status, StatusCode

from .metrics import Metrics, invocation_outcome
from .tracing import TraceContext, Tracing, XRaySampler, incoming_context, new_span_id

if TYPE_CHECKING:
    from .agent_client import AgentResult


class Observation:
    def __init__(
        self, telemetry: Telemetry, function: str, request_id: str, context: TraceContext
    ) -> None:
        self._metrics = telemetry.metrics
        self._tracing = telemetry.tracing
        self.function = function
        self.request_id = request_id
        self.context = context
        self.cold = False
        self.node = ""
        self.started_ns = time.time_ns()
        self.span_id = new_span_id()
        # What the runtime sees (Lambda-Runtime-Trace-Id, _X_AMZN_TRACE_ID): its parent is us.
        self.runtime_header = context.xray(self.span_id)
        if context.sampled:  # the X-Ray SDK sends segments only for a sampled trace
            self._tracing.expect_segments(request_id, function, context.trace_id, self.span_id)
        self._result: AgentResult | None = None
        self._result_ns = 0
        self._outcome = "platform_error"
        self._error: str | None = None
        self._running = False  # between acquired and end: counted in the function's concurrency

    def acquired(self, cold: bool, node: str = "") -> None:
        """An instance took the invocation; `node`: the machine it runs on, for drivers of
        several ("" for one)."""
        self.cold = cold
        self.node = node
        if not self._running:
            self._running = True
            self._metrics.running(self.function, +1)

    def completed(self, result: AgentResult) -> None:
        self._result_ns = time.time_ns()
        self._result = result
        self._outcome = invocation_outcome(result.outcome)
        init_s = result.init_duration_ms / 1000 if result.init_duration_ms is not None else None
        self._metrics.invoked(
            self.function, self._outcome, result.duration_ms / 1000, init_s, self.cold, self.node
        )
        if self._outcome != "success":
            self._error = result.error_type or self._outcome

    def failed(self, outcome: str, detail: str) -> None:
        """No result from the agent: `platform_error` (did not start) or `function_error` (died)."""
        self._metrics.invoked(self.function, outcome, None, None, self.cold, self.node)
        self._outcome = outcome
        self._error = detail[:200]

    def end(self) -> None:
        if self._running:
            self._running = False
            self._metrics.running(self.function, -1)
        end_ns = time.time_ns()
        try:
            asyncio.get_running_loop().call_soon(self._record, end_ns)
        except RuntimeError:  # no loop (tests, tools): record now
            self._record(end_ns)

    def _record(self, end_ns: int) -> None:
        attributes: dict[str, Any] = {"faas.coldstart": self.cold, "lambkin.outcome": self._outcome}
        span = self._tracing.start_invocation(
            self.context, self.function, self.request_id, self.span_id, self.started_ns, attributes
        )
        result = self._result
        if result is not None:
            invocation_start = self._result_ns - int(result.duration_ms * 1e6)
            if result.init_duration_ms is not None:
                init_start = invocation_start - int(result.init_duration_ms * 1e6)
                self._tracing.child(
                    span, "Init", init_start, invocation_start, {"faas.name": self.function}
                )
            child: dict[str, Any] = {"faas.name": self.function, "lambkin.outcome": result.outcome}
            if result.error_type:
                child["lambkin.error_type"] = result.error_type
            if result.max_memory_mb is not None:
                child["lambkin.max_memory_mb"] = result.max_memory_mb
            self._tracing.child(span, "Invocation", invocation_start, self._result_ns, child)
        if self._error is not None:
            span.set_status(Status(StatusCode.ERROR, self._error))
        span.end(end_time=end_ns)


class Telemetry:
    def __init__(
        self, metrics: Metrics, tracing: Tracing, sampler: XRaySampler | None = None
    ) -> None:
        self.metrics = metrics
        self.tracing = tracing
        self.sampler = sampler or XRaySampler()

    def begin(
        self,
        function: str,
        request_id: str,
        xray: str | None,
        traceparent: str | None = None,
        tracing_mode: str = "PassThrough",
    ) -> Observation:
        context = incoming_context(xray, traceparent).decided(tracing_mode, self.sampler)
        return Observation(self, function, request_id, context)

    def throttled(self, function: str) -> None:
        self.metrics.throttled(function)
