"""The swarm driver on a real 3-node swarm (scripts/swarm-cluster.sh: Docker-in-Docker nodes on
this machine): invocations through boto3, a burst placed over every node, the isolation of
instances from one another and from the registry's push side, and nothing left behind.

The cluster comes up once per session (about 5 s with its image built, a minute more to build
it); with LAMBKIN_REQUIRE_DOCKER=1 a cluster that cannot come up fails these tests.
"""

from __future__ import annotations

import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from orchestrator.log_follow import filter_events
from tests.support.server import Client, Server, start_server
from tests.support.swarm_app import SWARM_APP as APP
from tests.support.swarm_cluster import (
    NODES,
    Cluster,
    containers_on,
    create,
    invoke,
    volumes_on,
)
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker


def instance_of(event: dict[str, Any]) -> str:
    """The instance whose stream an event is in (`YYYY/MM/DD/[$LATEST]<instance id>`)."""
    return str(event["logStreamName"]).rpartition("]")[2]


def test_an_invocation_runs_on_a_node_with_its_code_and_its_logs_come_back(
    server: Server, lam: Client
) -> None:
    name = create(lam, APP, "hello")
    started = time.monotonic()
    body = invoke(lam, name, {"n": 1})
    cold = time.monotonic() - started
    assert body == {
        "event": {"n": 1},
        "task": "/var/task",
        "files": ["app.py"],
        "uid": 993,  # the function's user, as on the docker driver
        "no_new_privs": "1",
        "capabilities": "0000000000000000",
        "log_dir": False,  # the platform's log is not the function's to read
        "task_writable": False,
    }
    started = time.monotonic()
    assert invoke(lam, name, {"n": 2})["event"] == {"n": 2}
    warm = time.monotonic() - started
    print(f"swarm: cold {cold * 1000:.0f} ms, warm {warm * 1000:.1f} ms (through boto3)")
    # Waits for the REPORT, which comes after the function's line (waiting for that line
    # alone, a first cold start on a node still pulling its image once missed the REPORT).
    messages = server.log_messages(name, "REPORT RequestId")
    assert any(m.startswith("hello from") for m in messages), messages
    assert sum(m.startswith("REPORT RequestId") for m in messages) >= 1, messages


NODE_APP = make_zip(
    {
        "app.mjs": """import os from "node:os";
import fs from "node:fs";
export const hello = async (event) => ({
  event, node: os.hostname(), task: process.env.LAMBDA_TASK_ROOT,
  files: fs.readdirSync(process.env.LAMBDA_TASK_ROOT).sort(), uid: process.getuid(),
});
"""
    }
)


def test_a_nodejs_function_runs_on_the_swarm_too(server: Server, lam: Client) -> None:
    """A second language, with its own image (published with the agent by its first instance),
    through the same code push and logs."""
    name = create(lam, NODE_APP, "hello", runtime="nodejs18.x")
    body = invoke(lam, name, {"n": 1})
    assert body["event"] == {"n": 1} and body["files"] == ["app.mjs"], body
    assert body["task"] == "/var/task" and body["uid"] == 993, body
    assert invoke(lam, name, {"n": 2})["node"] == body["node"]  # warm: the same instance
    messages = server.log_messages(name, "REPORT RequestId")
    assert len(messages) >= 1, messages


# Swarm spreads by the nodes' task counts, which other instances (and their gateways'
# attachments) already tilt: a burst of six once missed a node; nine have reached all three.
BURST = 9


def test_a_burst_starts_instances_on_every_node(
    server: Server, lam: Client, cluster: Cluster
) -> None:
    name = create(lam, APP, "sleep")
    with ThreadPoolExecutor(BURST) as pool:
        answers = list(pool.map(lambda _: invoke(lam, name, {"seconds": 3}), range(BURST)))
    assert len(set(answers)) == BURST, answers  # an instance each
    placed = cluster.node_of_instances(server.health()["server_id"], name)
    assert len(placed) == BURST and set(placed.values()) == NODES, placed
    # The instances listing says where each runs, and reaches each agent through its gateway.
    listed = {i["InstanceId"]: i for i in server.instances(name)}
    assert {i: listed[i]["Node"] for i in placed} == placed, listed
    assert all(listed[i]["MaxMemoryUsedMB"] for i in placed), listed
    # /metrics says the same, with the node as a label.
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=5) as response:
        lines = response.read().decode().splitlines()
    by_node = {
        line.split('node="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("lambkin_instances_by_node{") and f'function="{name}"' in line
    }
    assert by_node == {node: list(placed.values()).count(node) for node in NODES}, by_node
    # Each instance served one invocation: the invocations by node are the instances by node.
    invoked = {
        line.split('node="')[1].split('"')[0]: float(line.rsplit(" ", 1)[1])
        for line in lines
        if line.startswith("lambkin_invocations_by_node_total{")
        and f'function="{name}"' in line
        and 'outcome="success"' in line
    }
    assert invoked == by_node, (invoked, by_node)
    # Every instance's log, whatever its node, is in the one store.
    last = f"sleeping on {answers[-1]}"
    printed = {m.strip() for m in server.log_messages(name, last) if m.startswith("sleeping on")}
    wanted = {f"sleeping on {host}" for host in answers}
    deadline = time.monotonic() + 15
    while printed != wanted and time.monotonic() < deadline:
        time.sleep(0.5)
        printed = {m.strip() for m in server.log_messages(name, last) if m.startswith("sleeping")}
    assert printed == wanted
    # ... with the node as a label (Lambkin-Log-Node): each line names the node its instance
    # ran on, and a node's lines are selected by it, as `lambkin logs --node` asks.
    group = {"logGroupName": f"/aws/lambda/{name}", "filterPattern": '"sleeping on"'}
    labelled = filter_events(server.endpoint, group)["events"]
    assert len(labelled) == BURST, labelled
    assert {instance_of(e): e["lambkinNode"] for e in labelled} == placed, labelled
    for node in NODES:
        only = filter_events(server.endpoint, group, node=node)["events"]
        assert sorted(instance_of(e) for e in only) == sorted(
            i for i, on in placed.items() if on == node
        ), (node, only)
        assert {e["lambkinNode"] for e in only} == {node}


def test_a_stopped_server_leaves_nothing_on_any_node(cluster: Cluster, tmp_path: Path) -> None:
    srv = start_server("swarm", tmp_path / "data", env=cluster.env)
    lam = srv.client()
    name = create(lam, APP, "hello")
    invoke(lam, name, {})
    owner = srv.health()["server_id"]
    assert srv.stop() == 0, srv.log()
    client = cluster.manager()
    try:
        label = f"org.lambkin.server={owner}"
        assert client.services.list(filters={"label": label}) == []
        assert client.networks.list(filters={"label": label}) == []
    finally:
        client.close()
    deadline = time.monotonic() + 20  # a task's container goes once its node has seen it stop
    while True:
        left = {node: containers_on(node, owner) + volumes_on(node, owner) for node in NODES}
        if not any(left.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not any(left.values()), left
