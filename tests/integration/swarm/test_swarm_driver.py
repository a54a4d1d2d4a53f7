"""The swarm driver on a real 3-node swarm (scripts/swarm-cluster.sh: Docker-in-Docker nodes on
this machine): invocations through boto3, a burst placed over every node, the isolation of
instances from one another and from the registry's push side, and nothing left behind.

The cluster comes up once per session (about 5 s with its image built, a minute more to build
it); with LAMBKIN_REQUIRE_DOCKER=1 a cluster that cannot come up fails these tests.
"""

from __future__ import annotations

import json
import subprocess
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
    instance_container,
    instance_ids,
    invoke,
    volumes_on,
)
from tests.support.vacancies import ready_vacancies, start_phases, wait_for_vacancy
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


def test_a_cold_start_takes_a_vacancy_already_placed_on_a_node(
    server: Server, lam: Client, cluster: Cluster
) -> None:
    """A shape with recent cold starts keeps a vacant instance placed and running (Swarm's
    scheduling, the node's dispatch and the gateway paid ahead); the next cold start of that
    shape only delivers its code and function to it, and it is then an ordinary instance of
    that function: its files alone, its sandbox, its task untouched (Swarm would redeploy a
    service whose spec changed), its log stream labelled with its node; a new vacancy
    replaces it."""
    memory = 192  # a shape of this test's own
    first = create(lam, APP, "hello", memory=memory)
    started = time.monotonic()
    invoke(lam, first, {})
    usual = time.monotonic() - started
    vacancy = wait_for_vacancy(server, memory, timeout_s=60)
    second = create(lam, APP, "hello", memory=memory)
    started = time.monotonic()
    response = lam.invoke(FunctionName=second, Payload=b'{"n": 1}')
    from_vacancy = time.monotonic() - started
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    assert set(start_phases(response)) == {"specialise", "ready", "init", "invoke"}, response
    (instance,) = server.instances(second)
    assert instance["InstanceId"] == vacancy["InstanceId"], (instance, vacancy)
    assert body["event"] == {"n": 1} and body["files"] == ["app.py"], body
    assert body["uid"] == 993 and body["capabilities"] == "0000000000000000", body
    assert body["task_writable"] is False and body["log_dir"] is False, body
    owner = server.health()["server_id"]
    assert cluster.node_of_instances(owner, {instance["InstanceId"]}) == {
        instance["InstanceId"]: instance["Node"]
    }, "Swarm placed it where the server says"
    assert invoke(lam, second, {"n": 2})["event"] == {"n": 2}
    (warm,) = server.instances(second)  # its service untouched: its task still serves
    assert warm["InstanceId"] == instance["InstanceId"] and warm["Invocations"] == 2, warm
    group = {"logGroupName": f"/aws/lambda/{second}", "filterPattern": '"hello from"'}
    deadline = time.monotonic() + 15
    while len(events := filter_events(server.endpoint, group)["events"]) < 2:
        assert time.monotonic() < deadline, events
        time.sleep(0.2)
    assert {(instance_of(e), e["lambkinNode"]) for e in events} == {
        (instance["InstanceId"], instance["Node"])
    }, events
    replacement = wait_for_vacancy(server, memory, timeout_s=60)
    assert replacement["InstanceId"] != vacancy["InstanceId"]
    print(f"swarm cold start: {usual * 1000:.0f} ms, from a vacancy {from_vacancy * 1000:.0f} ms")
    # A vacancy whose container dies on its node is seen by the death watch and dropped,
    # never handed to a cold start.
    dead = replacement["InstanceId"]
    [(_, node)] = cluster.node_of_instances(owner, {dead}).items()
    container = instance_container(node, dead)
    subprocess.run(["docker", "exec", node, "docker", "kill", container], check=True)
    deadline = time.monotonic() + 20
    while dead in {v["InstanceId"] for v in ready_vacancies(server, memory)}:
        assert time.monotonic() < deadline, "the dead vacancy is still offered"
        time.sleep(0.2)
    third = create(lam, APP, "hello", memory=memory)
    assert invoke(lam, third, {"n": 3})["event"] == {"n": 3}
    assert dead not in instance_ids(server, third)


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
    placed = cluster.node_of_instances(server.health()["server_id"], instance_ids(server, name))
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
