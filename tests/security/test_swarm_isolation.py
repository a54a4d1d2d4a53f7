"""On the swarm driver (the 3-node test swarm, scripts/swarm-cluster.sh), a function probing
from inside its instance reaches neither another instance's agent, nor the cluster's own ports
(the swarm's gossip, the gateways without their token), nor this host, nor the registry's push
side; and a node (say, one whose engine a function took) cannot push where the others pull."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator

import pytest

from tests.support.server import Client, Server, start_server
from tests.support.swarm_app import SWARM_APP as APP
from tests.support.swarm_cluster import NODES, Cluster, create, invoke

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def swarm_server(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("swarm", tmp_path_factory.mktemp("swarm-security"), env=cluster.env)
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def lam(swarm_server: Server) -> Client:
    return swarm_server.client()


def test_instances_reach_neither_one_another_nor_the_cluster_nor_the_host(
    swarm_server: Server, lam: Client, cluster: Cluster
) -> None:
    other = create(lam, APP, "hello")
    invoke(lam, other, {})
    prober = create(lam, APP, "probe")
    invoke(lam, prober, {})  # started: now find the other instance's address
    client = cluster.manager()
    try:
        # (By its instance id: a vacancy a function took keeps the labels it started with.)
        [instance] = swarm_server.instances(other)
        label = f"org.lambkin.instance={instance['InstanceId']}"
        [service] = client.services.list(filters={"label": label})
        [task] = [t for t in service.tasks() if t["Status"]["State"] == "running"]
        other_address = task["NetworksAttachments"][0]["Addresses"][0].split("/")[0]
        nodes = [n.attrs["Status"]["Addr"] for n in client.nodes.list()]
    finally:
        client.close()
    host_address = _inspect("network", "{{(index .IPAM.Config 0).Gateway}}", "lkswarm-net")
    listener = socket.create_server(("0.0.0.0", 0))  # a port of this host that answers
    listener.listen()
    registry = _inspect(
        "container",
        '{{(index .NetworkSettings.Networks "lkswarm-net").IPAddress}}',
        "lkswarm-registry",
    )
    health = "GET /health HTTP/1.1\r\n\r\n"
    connect = f"CONNECT {other_address}:9002 HTTP/1.1\r\n\r\n"
    # Posing as the control plane: a connection parked with ACCEPT would be handed the next
    # instance's call to the API (its credentials in it), without the token or with a guess.
    accept = "ACCEPT api HTTP/1.1\r\n\r\n"
    guessed = f"ACCEPT api HTTP/1.1\r\nLambkin-Gateway-Token: {'0' * 64}\r\n\r\n"
    gateways = cluster.gateways(swarm_server.health()["server_id"])
    targets = {
        "other agent": [other_address, 9002, health],
        "push side": [host_address, 5605, ""],  # this host, as the nodes see it
        "this host": [host_address, listener.getsockname()[1], ""],
        **{f"gateway {a}:{p}": [a, p, connect] for a, p in gateways},
        **{f"gateway {a}:{p}, ACCEPT": [a, p, accept] for a, p in gateways},
        **{f"gateway {a}:{p}, ACCEPT with a guess": [a, p, guessed] for a, p in gateways},
        **{f"swarm port of {a}": [a, 7946, ""] for a in nodes},  # (and VXLAN's 4789, alike)
    }
    try:
        results = invoke(lam, prober, {"targets": targets, "registry": f"{registry}:5000"})
    finally:
        listener.close()
    # Every probe fails on the node's fence (refused, or dropped: a timeout), none answered
    # (an agent would have said 401, naming its token); a gateway, were the fence to let one
    # through (the node's own, through its NAT), refuses CONNECT and ACCEPT without the token
    # (runtime-images/agent/gateway_test.go has the gateway's side).
    denied = "answered: HTTP/1.1 407 Proxy Authentication Required\r\nConnection: close\r\n\r\n"
    for name in targets:
        if name.startswith("gateway"):
            assert results[name].startswith("failed") or results[name] == denied, results
        else:
            assert results[name].startswith("failed"), (name, results)
    assert results["push"].startswith("failed"), results  # the registry is fenced off too


def test_the_nodes_registry_is_read_only(lam: Client) -> None:
    """Even a node (say, one whose engine a function took) cannot push where the others pull."""
    invoke(lam, create(lam, APP, "hello"), {})  # an image on some node
    for node in sorted(NODES):
        images = subprocess.run(
            ["docker", "exec", node, "docker", "images", "-q"], capture_output=True, text=True
        ).stdout.split()
        if images:
            break
    tag = "lkswarm-registry:5000/lkswarm/forged:1"
    subprocess.run(["docker", "exec", node, "docker", "tag", images[0], tag], check=True)
    pushed = subprocess.run(
        ["docker", "exec", node, "docker", "push", tag], capture_output=True, text=True
    )
    subprocess.run(["docker", "exec", node, "docker", "rmi", tag], capture_output=True)
    assert pushed.returncode != 0 and "405" in pushed.stdout + pushed.stderr, pushed


def _inspect(kind: str, template: str, name: str) -> str:
    return subprocess.run(
        ["docker", kind, "inspect", "-f", template, name],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
