"""lambkin_instances_by_node: the node each instance runs on, as its driver says (the swarm
driver's hostnames), read at scrape time; instances no node is known for are not counted. And
lambkin_invocations_by_node: each invocation by the node its instance ran on."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from orchestrator.drivers.base import InstanceHandle
from orchestrator.instance import Instance
from orchestrator.metrics import Metrics


def test_instances_by_node() -> None:
    placed = {"i1": "node-1", "i2": "node-2", "i3": "node-2", "i4": ""}
    instances = []
    for instance_id in placed:
        instance = Instance("fn", "r1")
        instance.handle = InstanceHandle(instance_id, "10.0.0.1", 9002)
        instances.append(instance)
    instances.append(Instance("fn", "r1"))  # starting: no handle yet
    metrics = Metrics()
    metrics.watch_instances(lambda: instances, lambda handle: placed[handle.instance_id])
    samples = {
        s.labels["node"]: s.value
        for f in text_string_to_metric_families(metrics.render().decode())
        for s in f.samples
        if s.name == "lambkin_instances_by_node"
    }
    assert samples == {"node-1": 1, "node-2": 2}


def test_a_driver_of_one_machine_adds_no_family() -> None:
    metrics = Metrics()
    metrics.watch_instances(lambda: [Instance("fn", "r1")])
    assert "lambkin_instances_by_node" not in metrics.render().decode()


def invocations_by_node(metrics: Metrics) -> dict[tuple[str, str], float]:
    return {
        (s.labels["node"], s.labels["outcome"]): s.value
        for f in text_string_to_metric_families(metrics.render().decode())
        for s in f.samples
        if s.name == "lambkin_invocations_by_node_total"
    }


def test_invocations_by_node_count_only_where_a_node_is_known() -> None:
    metrics = Metrics()
    metrics.invoked("fn", "success", 0.01, None, False, "node-1")
    metrics.invoked("fn", "success", 0.01, 0.2, True, "node-1")
    metrics.invoked("fn", "function_error", 0.01, None, False, "node-2")
    metrics.invoked("fn", "success", 0.01, None, False)  # one machine: no node
    assert invocations_by_node(metrics) == {
        ("node-1", "success"): 2,
        ("node-2", "function_error"): 1,
    }
    totals = {
        s.labels["outcome"]: s.value
        for f in text_string_to_metric_families(metrics.render().decode())
        for s in f.samples
        if s.name == "lambkin_invocations_total"
    }
    assert totals == {"success": 3, "function_error": 1}  # the plain counter has every one
