"""Failure is normal on a cluster: a node killed (its Docker-in-Docker container) takes its
instances with it, and a control plane killed with SIGKILL leaves services that its successor
removes. The manager (lkswarm-node-1) is drained for the node-loss test, so that the instances
land on the two workers and killing one leaves the cluster's API up."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Client, start_server
from tests.support.swarm_cluster import Cluster, bring_back, containers_on, create, invoke
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

APP = make_zip(
    {
        "app.py": """
import socket, time

def sleep(event, context):
    print("attempt on", socket.gethostname(), flush=True)
    time.sleep(event.get("seconds", 0))
    return socket.gethostname()
"""
    }
)
MANAGER = "lkswarm-node-1"


@pytest.fixture
def drained_manager(cluster: Cluster, lam: Client) -> Iterator[None]:
    """The manager drained, and the workers even: Swarm spreads a service's task to the node
    with the fewest tasks of any service, so the package's shared server's idle instances
    (tests/integration/swarm/conftest.py) would tilt where this test's instances land. Its
    functions are done with by now: deleting them retires their instances, and its vacancies
    go once its last cold starts are older than its vacancy window (20 s, there)."""
    for page in lam.get_paginator("list_functions").paginate():
        for function in page["Functions"]:
            lam.delete_function(FunctionName=function["FunctionName"])
    _wait_for(
        "the shared server's instances and vacancies gone",
        lambda: not _instance_services(cluster),
        90,
    )
    _availability(MANAGER, "drain")
    try:
        yield
    finally:
        _availability(MANAGER, "active")


def _availability(node: str, availability: str) -> None:
    subprocess.run(
        ["docker", "exec", node, "docker", "node", "update", "--availability", availability, node],
        capture_output=True,
        check=True,
    )


def _wait_for(what: str, predicate: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = predicate()
        if found or time.monotonic() > deadline:
            assert found, f"{what}: not within {timeout:.0f} s"
            return found
        time.sleep(0.2)


def _call(lam: Client, name: str, event: Any) -> tuple[float, dict[str, Any], bytes]:
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    return time.monotonic(), response, response["Payload"].read()


def test_a_node_killed_fails_its_invocations_promptly_and_the_work_goes_on(
    cluster: Cluster, tmp_path: Path, drained_manager: None
) -> None:
    srv = start_server(
        "swarm",
        tmp_path / "data",
        # No vacancies: this test places instances by their function's label (a vacancy a
        # function takes keeps its own) and wants nothing of ours on the node once it is back,
        # where a vacancy could be placed again. Vacancies on a dead node: the death watch's
        # (swarm_watch.py), as any instance's.
        env={
            **cluster.env,
            "LAMBKIN_ASYNC_RETRY_DELAYS_S": "[1, 1]",
            "LAMBKIN_VACANCY_MEMORY_MB": "0",
        },
    )
    owner = str(srv.health()["server_id"])
    victim = ""
    try:
        lam = srv.client(max_pool_connections=8)
        sync_fn, async_fn = create(lam, APP, "sleep"), create(lam, APP, "sleep")
        with ThreadPoolExecutor(6) as pool:
            calls: list[Future[tuple[float, dict[str, Any], bytes]]] = [
                pool.submit(_call, lam, sync_fn, {"seconds": 20}) for _ in range(3)
            ]
            _wait_for("three instances", lambda: len(_nodes_of(cluster, sync_fn)) == 3, 60)
            lam.invoke(FunctionName=async_fn, InvocationType="Event", Payload=b'{"seconds": 15}')
            [victim] = _wait_for("the event's instance", lambda: _nodes_of(cluster, async_fn), 60)
            assert victim != MANAGER
            on_victim = _nodes_of(cluster, sync_fn).count(victim)
            while on_victim == 0 and len(calls) < 6:
                # All three on the other worker (Swarm ranks nodes by their tasks, and a node's
                # count can lag): one more goes where the fewest run, the event's node now.
                calls.append(pool.submit(_call, lam, sync_fn, {"seconds": 20}))
                _wait_for(
                    "one more instance", lambda: len(_nodes_of(cluster, sync_fn)) == len(calls), 60
                )
                on_victim = _nodes_of(cluster, sync_fn).count(victim)
            assert on_victim >= 1, f"Swarm placed no instance on {victim}: {_tasks()}"
            time.sleep(1)  # the event's invocation under way
            killed = time.monotonic()
            subprocess.run(["docker", "kill", victim], capture_output=True, check=True)
            outcomes = [call.result(timeout=60) for call in calls]
        failed = [(at - killed, body) for at, r, body in outcomes if "FunctionError" in r]
        # The node's synchronous invocations fail, and soon; the others finish.
        assert len(failed) == on_victim, outcomes
        for after, body in failed:
            assert after < 8, f"an invocation on {victim} failed {after:.1f} s after the kill"
            assert b"Runtime.ExitError" in body, body
        slowest = max(after for after, _ in failed)
        print(f"in-flight invocations on the killed node failed {slowest:.1f} s after the kill")
        # New work starts instances on the surviving node only; the event is retried there.
        with ThreadPoolExecutor(4) as pool:
            assert all(pool.map(lambda _: invoke(lam, sync_fn, {"seconds": 1}), range(4)))
        assert _nodes_started_since(cluster, sync_fn, killed) == {_other_worker(victim)}
        _wait_for(
            "the event's retry on another instance",
            lambda: len(set(srv.log_messages(async_fn, "attempt on", timeout=1))) >= 2,
            40,
        )
        # Back in the swarm, the node runs nothing of ours: Swarm removed the tasks, the
        # driver's sweep the gateway.
        bring_back(victim)
        _wait_for("no container of ours on the node", lambda: not containers_on(victim, owner), 40)
    finally:
        try:
            if victim:
                bring_back(victim)  # (a no-op when it is back)
        finally:
            assert srv.stop() == 0, srv.log()


def _other_worker(node: str) -> str:
    return "lkswarm-node-3" if node == "lkswarm-node-2" else "lkswarm-node-2"


def _tasks() -> str:
    """What each node runs, as the manager says (for a failure's message)."""
    listed = subprocess.run(
        ["docker", "exec", MANAGER, "sh", "-c",
         "for n in $(docker node ls -q); do docker node ps $n --filter desired-state=running "
         "--format '{{.Node}} {{.Name}} {{.CurrentState}}'; done"],
        capture_output=True, text=True,
    )  # fmt: skip
    return listed.stdout + listed.stderr


def _instance_services(cluster: Cluster) -> list[str]:
    """Every instance's service on the swarm, whichever server it is of."""
    client = cluster.manager()
    try:
        return [
            service.name
            for label in ("org.lambkin.function", "org.lambkin.vacant")
            for service in client.services.list(filters={"label": label})
        ]
    finally:
        client.close()


def _nodes_of(cluster: Cluster, function: str) -> list[str]:
    """The node of each running instance of the function, as Swarm reports them."""
    client = cluster.manager()
    try:
        hostnames = {n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()}
        return [
            str(hostnames.get(task.get("NodeID", ""), ""))
            for service in client.services.list(
                filters={"label": f"org.lambkin.function={function}"}
            )
            for task in service.tasks()
            if task["Status"]["State"] == "running"
        ]
    finally:
        client.close()


def _nodes_started_since(cluster: Cluster, function: str, since: float) -> set[str]:
    """The nodes of the function's tasks created after `since` (time.monotonic)."""
    ago = time.monotonic() - since
    cutoff = time.time() - ago
    client = cluster.manager()
    try:
        hostnames = {n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()}
        nodes = set()
        for service in client.services.list(filters={"label": f"org.lambkin.function={function}"}):
            for task in service.tasks():
                created = task["CreatedAt"][:26].rstrip("Z")
                stamp = datetime.fromisoformat(created).replace(tzinfo=UTC).timestamp()
                if stamp > cutoff:
                    nodes.add(str(hostnames.get(task.get("NodeID", ""), "")))
        return nodes
    finally:
        client.close()


def test_a_control_plane_killed_leaves_nothing_its_successor_does_not_remove(
    cluster: Cluster, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    first = start_server("swarm", data, env=cluster.env)
    owner = str(first.health()["server_id"])
    lam = first.client()
    name = create(lam, APP, "sleep")
    invoke(lam, name, {})
    assert cluster.node_of_instances(owner), "an instance runs"
    first.stop(signal.SIGKILL)
    assert cluster.node_of_instances(owner), "SIGKILL removes nothing"
    second = start_server("swarm", data, env=cluster.env)  # same data: same server id
    try:
        assert str(second.health()["server_id"]) == owner
        assert cluster.node_of_instances(owner) == {}, "the successor removed the old instances"
        assert invoke(second.client(), name, {})  # and serves the function anew
    finally:
        assert second.stop() == 0, second.log()
