"""Prometheus metrics (prometheus-client), served at /metrics.

One `Metrics` per server, on its own `CollectorRegistry` (no process-wide globals). Counters and
histograms are updated on the invoke path (a dict lookup and an add each); instance counts and
concurrency are read from the pool when scraped, so they cost nothing between scrapes.

Label cardinality is bounded: function names are the only open-ended label, and at most
`max_functions` distinct ones are used (the rest count as `_other`); outcomes and stop reasons
are closed lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from .instance import Instance, State, StopReason
from .metric_history import MetricHistory

if TYPE_CHECKING:
    from .drivers.base import InstanceHandle

OUTCOMES = ("success", "function_error", "timeout", "throttle", "platform_error")
OTHER_FUNCTIONS = "_other"

DURATION_BUCKETS = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    300,
    900,
)
INIT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# Agent outcomes (Lambkin-Outcome) -> the invocation outcome label.
_AGENT_OUTCOMES = {
    "success": "success",
    "timeout": "timeout",
    "function_error": "function_error",
    "init_error": "function_error",
    "exit": "function_error",
    "response_too_large": "function_error",
}


def invocation_outcome(agent_outcome: str) -> str:
    return _AGENT_OUTCOMES.get(agent_outcome, "function_error")


class Metrics:
    def __init__(
        self,
        max_functions: int = 500,
        registry: CollectorRegistry | None = None,
        history: MetricHistory | None = None,
    ) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        # The same figures minute by minute, for the console (fed by the same calls, so the two
        # views cannot disagree).
        self.history = history or MetricHistory()
        self._max_functions = max_functions
        self._functions: set[str] = set()
        r = self.registry
        self.invocations = Counter(
            "lambkin_invocations",
            "Invocations by function and outcome.",
            ["function", "outcome"],
            registry=r,
        )
        # Only drivers of several machines count here (the swarm's): one machine adds no series.
        self.invocations_by_node = Counter(
            "lambkin_invocations_by_node",
            "Invocations by function, the node their instance ran on, and outcome.",
            ["function", "node", "outcome"],
            registry=r,
        )
        self.duration = Histogram(
            "lambkin_invocation_duration_seconds",
            "Invocation duration (the REPORT line's Duration).",
            ["function"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.init_duration = Histogram(
            "lambkin_init_duration_seconds",
            "Init duration of instances (the REPORT line's Init Duration).",
            ["function"],
            buckets=INIT_BUCKETS,
            registry=r,
        )
        self.cold_starts = Counter(
            "lambkin_cold_starts", "Invocations that started an instance.", ["function"], registry=r
        )
        self.instance_starts = Counter(
            "lambkin_instance_starts", "Instances started.", ["function"], registry=r
        )
        self.instance_stops = Counter(
            "lambkin_instance_stops",
            "Instances stopped, by reason.",
            ["function", "reason"],
            registry=r,
        )
        self.log_lines_stored = Counter(
            "lambkin_log_lines_stored", "Function log lines stored.", ["function"], registry=r
        )
        self.log_lines_dropped = Counter(
            "lambkin_log_lines_dropped",
            "Function log lines lost before they were stored.",
            ["function"],
            registry=r,
        )
        self.async_queue_depth = Gauge(
            "lambkin_async_queue_depth",
            "Asynchronous invocations waiting (all functions).",
            registry=r,
        )
        self.async_event_age = Histogram(
            "lambkin_async_event_age_seconds",
            "Age of an asynchronous event when an attempt starts.",
            ["function"],
            registry=r,
            buckets=(0.1, 0.5, 1, 5, 30, 60, 300, 900, 3600, 21600),
        )
        self.async_retries = Counter(
            "lambkin_async_retries",
            "Asynchronous events retried after a function error.",
            ["function"],
            registry=r,
        )
        self.async_dropped_by_age = Counter(
            "lambkin_async_dropped_by_age",
            "Asynchronous events dropped because they were too old.",
            ["function"],
            registry=r,
        )
        self.async_destination_deliveries = Counter(
            "lambkin_async_destination_deliveries",
            "Destination records delivered, by result.",
            ["result"],
            registry=r,
        )

    def function(self, name: str) -> str:
        """The label value for a function name (bounded: names beyond the cap are `_other`)."""
        if name in self._functions:
            return name
        if len(self._functions) < self._max_functions:
            self._functions.add(name)
            return name
        return OTHER_FUNCTIONS

    # -- invocations ----------------------------------------------------------------------------

    def invoked(
        self,
        function: str,
        outcome: str,
        duration_s: float | None,
        init_s: float | None,
        cold: bool,
        node: str = "",
    ) -> None:
        label = self.function(function)
        self.invocations.labels(label, outcome).inc()
        if node:
            self.invocations_by_node.labels(label, node, outcome).inc()
        if duration_s is not None:
            self.duration.labels(label).observe(duration_s)
        if init_s is not None:
            self.init_duration.labels(label).observe(init_s)
        if cold:
            self.cold_starts.labels(label).inc()
        duration_ms = duration_s * 1000 if duration_s is not None else None
        self.history.invoked(label, outcome != "success", duration_ms, cold)

    def running(self, function: str, change: int) -> None:
        """An invocation got an instance (+1) or ended (-1): the history's concurrency."""
        self.history.running(self.function(function), change)

    def throttled(self, function: str) -> None:
        label = self.function(function)
        self.invocations.labels(label, "throttle").inc()
        self.history.throttled(label)

    # -- instances and logs ---------------------------------------------------------------------

    def instance_started(self, instance: Instance) -> None:
        self.instance_starts.labels(self.function(instance.function_name)).inc()

    def instance_stopped(self, instance: Instance) -> None:
        self.instance_stops.labels(
            self.function(instance.function_name),
            (instance.stop_reason or StopReason.CRASH).value,
        ).inc()

    def log_lines(self, function: str, stored: int, dropped: int) -> None:
        label = self.function(function)
        if stored:
            self.log_lines_stored.labels(label).inc(stored)
        if dropped:
            self.log_lines_dropped.labels(label).inc(dropped)

    def watch_instances(
        self,
        instances: Callable[[], Iterable[Instance]],
        node_of: Callable[[InstanceHandle], str] | None = None,
    ) -> None:
        """Instances by state and concurrent executions, read from the pool at scrape time;
        with `node_of` (the driver's), also by the node each runs on."""
        self.registry.register(_InstanceCollector(instances, self.function, node_of))

    def watch_vacancies(self, ready: Callable[[], int], taken: Callable[[], int]) -> None:
        """Vacant instances waiting, and how many cold starts took one, read at scrape time."""
        self.registry.register(_VacancyCollector(ready, taken))

    def watch_queue_depth(self, depth: Callable[[], int]) -> None:
        """The async queue's depth, read at scrape time."""
        self.async_queue_depth.set_function(lambda: float(depth()))

    def watch_xray_segments(self, counts: Callable[[], dict[str, int]]) -> None:
        """X-Ray segment documents from functions, by what the tracer did with them."""
        self.registry.register(_SegmentCollector(counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class _SegmentCollector(Collector):
    def __init__(self, counts: Callable[[], dict[str, int]]) -> None:
        self._counts = counts

    def collect(self) -> Iterator[CounterMetricFamily]:
        family = CounterMetricFamily(
            "lambkin_xray_segments",
            "X-Ray segment documents functions sent: folded into their invocation's trace, "
            "refused (invalid, another trace, over the bound) or unexpected (no such sampled "
            "invocation of that function).",
            labels=["outcome"],
        )
        for outcome, value in sorted(self._counts().items()):
            family.add_metric([outcome], value)
        yield family

    def describe(self) -> Iterator[CounterMetricFamily]:
        return iter(())


class _VacancyCollector(Collector):
    def __init__(self, ready: Callable[[], int], taken: Callable[[], int]) -> None:
        self._ready = ready
        self._taken = taken

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield GaugeMetricFamily(
            "lambkin_vacant_instances",
            "Instances started with no function, waiting for a cold start.",
            value=self._ready(),
        )
        yield CounterMetricFamily(
            "lambkin_vacancies_taken",
            "Cold starts served by a vacant instance instead of a new container.",
            value=self._taken(),
        )

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


class _InstanceCollector(Collector):
    def __init__(
        self,
        instances: Callable[[], Iterable[Instance]],
        label: Callable[[str], str],
        node_of: Callable[[InstanceHandle], str] | None = None,
    ) -> None:
        self._instances = instances
        self._label = label
        self._node_of = node_of

    def collect(self) -> Iterator[GaugeMetricFamily]:
        by_state: dict[tuple[str, str], int] = {}
        busy: dict[str, int] = {}
        by_node: dict[tuple[str, str], int] = {}
        for instance in self._instances():
            function = self._label(instance.function_name)
            key = (function, instance.state.value)
            by_state[key] = by_state.get(key, 0) + 1
            if instance.state in (State.BUSY, State.DRAINING):
                busy[function] = busy.get(function, 0) + 1
            node = self._node_of(instance.handle) if self._node_of and instance.handle else ""
            if node:
                by_node[(function, node)] = by_node.get((function, node), 0) + 1
        states = GaugeMetricFamily(
            "lambkin_instances", "Instances by function and state.", labels=["function", "state"]
        )
        for (function, state), count in sorted(by_state.items()):
            states.add_metric([function, state], count)
        yield states
        concurrent = GaugeMetricFamily(
            "lambkin_concurrent_executions",
            "Invocations running now, by function.",
            labels=["function"],
        )
        for function, count in sorted(busy.items()):
            concurrent.add_metric([function], count)
        yield concurrent
        if self._node_of is not None:
            nodes = GaugeMetricFamily(
                "lambkin_instances_by_node",
                "Instances by function and the node they run on (drivers of several machines).",
                labels=["function", "node"],
            )
            for (function, node), count in sorted(by_node.items()):
                nodes.add_metric([function, node], count)
            yield nodes

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())
