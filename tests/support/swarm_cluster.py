"""The test cluster (scripts/swarm-cluster.sh): brought up once per session, torn down after
unless it was already up (a developer's cluster is left as it was found)."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from tests.support.server import REPO_ROOT, Client, Server

SCRIPT = REPO_ROOT / "scripts" / "swarm-cluster.sh"
UP_TIMEOUT_S = 900  # the first `up` builds the node image (about a minute here)
ROLE = "arn:aws:iam::123456789012:role/lambda-role"
NODES = {"lkswarm-node-1", "lkswarm-node-2", "lkswarm-node-3"}


class ClusterUnavailable(Exception):
    """The cluster could not be brought up; the message holds the script's output."""


@dataclass
class Cluster:
    env: dict[str, str]
    up_seconds: float
    started_here: bool

    def manager(self) -> Any:
        import docker

        return docker.DockerClient(base_url=self.env["LAMBKIN_SWARM_ENGINE"], timeout=30)

    def node_of_instances(
        self, server_id: str, only: Collection[str] | None = None
    ) -> dict[str, str]:
        """instance id -> hostname of the node its task runs on, as Swarm says: the server's
        instances (by its label), or `only` those (instance_ids(): a function's, as the
        server lists them; a vacancy a function took keeps the labels it started with)."""
        client = self.manager()
        try:
            hostnames = {n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()}
            placed = {}
            for service in client.services.list(
                filters={"label": [f"org.lambkin.server={server_id}"]}
            ):
                instance = service.attrs["Spec"]["Labels"]["org.lambkin.instance"]
                if only is not None and instance not in only:
                    continue
                for task in service.tasks():
                    if task["Status"]["State"] == "running":
                        placed[instance] = hostnames.get(task.get("NodeID", ""), "")
            return placed
        finally:
            client.close()

    def gateways(self, server_id: str) -> list[tuple[str, int]]:
        """(address, port) of each node's gateway of that server."""
        import docker

        found = []
        manager = self.manager()
        try:
            for node in manager.nodes.list():
                hostname = node.attrs["Description"]["Hostname"]
                engine = self.env["LAMBKIN_SWARM_NODE_ENGINE"].format(hostname=hostname)
                client = docker.DockerClient(base_url=engine, timeout=10)
                try:
                    state = client.api.inspect_container(f"lambkin-gateway-{server_id}")
                except docker.errors.NotFound:
                    continue
                finally:
                    client.close()
                [binding] = state["NetworkSettings"]["Ports"]["9100/tcp"]
                found.append((node.attrs["Status"]["Addr"], int(binding["HostPort"])))
        finally:
            manager.close()
        return found


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def bring_up() -> Cluster:
    already = _run("status").returncode == 0
    started = time.monotonic()
    done = _run("up", timeout=UP_TIMEOUT_S)
    if done.returncode != 0:
        raise ClusterUnavailable(f"scripts/swarm-cluster.sh up failed:\n{done.stdout}{done.stderr}")
    up_seconds = time.monotonic() - started
    env = dict(line.split("=", 1) for line in _run("env").stdout.splitlines() if "=" in line)
    return Cluster(env, up_seconds, started_here=not already)


def tear_down(cluster: Cluster) -> None:
    if cluster.started_here:
        done = _run("down")
        assert done.returncode == 0, done.stdout + done.stderr
        assert leftovers() == [], "swarm-cluster.sh down left these behind"


def leftovers() -> list[str]:
    """What of the cluster is on this host: containers, volumes, networks, images (lkswarm-*)
    in its engine, and its firewall's rules (LKSWARM-IN)."""
    found = []
    for kind, template in (
        ("ps", "{{.Names}}"),
        ("volume", "{{.Name}}"),
        ("network", "{{.Name}}"),
        ("image", "{{.Repository}}"),
    ):
        command = ["docker", kind, *(["-a"] if kind == "ps" else ["ls"]), "--format", template]
        listed = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        found += [f"{kind} {name}" for name in listed.split() if name.startswith("lkswarm-")]
    rules = subprocess.run(["iptables", "-S"], capture_output=True, text=True).stdout
    found += [f"iptables {rule}" for rule in rules.splitlines() if "LKSWARM" in rule]
    return found


def create(
    lam: Client, code: bytes, handler: str, memory: int = 128, runtime: str = "python3.11"
) -> str:
    """A function of `code` (handler `app.<handler>`), Active."""
    name = f"sw-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=f"app.{handler}",
        Code={"ZipFile": code},
        MemorySize=memory,
        Timeout=30,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def instance_ids(server: Server, function: str) -> set[str]:
    """The function's instances, as the server lists them."""
    return {i["InstanceId"] for i in server.instances(function)}


def invoke(lam: Client, name: str, event: Any) -> Any:
    """The function's answer, which must not be an error."""
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def containers_on(node: str, server_id: str) -> list[str]:
    """The containers of that server on one node, as the node's own engine lists them."""
    return _containers_labelled(node, f"org.lambkin.server={server_id}", stopped_too=True)


def instance_container(node: str, instance_id: str) -> str:
    """The running container of one instance, on the node Swarm placed it on."""
    [found] = _containers_labelled(node, f"org.lambkin.instance={instance_id}")
    return found


def _containers_labelled(node: str, label: str, stopped_too: bool = False) -> list[str]:
    listed = subprocess.run(
        ["docker", "exec", node, "docker", "ps", "-aq" if stopped_too else "-q"]
        + ["--filter", f"label={label}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def volumes_on(node: str, server_id: str) -> list[str]:
    """The volumes of that server on one node (instances' exec tmpfs volumes, swarm_spec.py)."""
    label = f"label=org.lambkin.server={server_id}"
    listed = subprocess.run(
        ["docker", "exec", node, "docker", "volume", "ls", "-q", "--filter", label],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def wait_pulled(repository: str, timeout: float = 180) -> float:
    """Wait until every node has pulled `repository` (the driver has them pull a newly
    published image ahead, in the background); the seconds it took. Tests that publish a large
    image wait, so that the pulls do not load the machine under the next test."""
    started = time.monotonic()
    while True:
        missing = []
        for node in sorted(NODES):
            listed = subprocess.run(
                ["docker", "exec", node, "docker", "images", "--format", "{{.Repository}}"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            if not any(r.endswith(f"/{repository}") for r in listed):
                missing.append(node)
        if not missing:
            return time.monotonic() - started
        assert time.monotonic() - started < timeout, f"{missing} did not pull {repository}"
        time.sleep(1)


def bring_back(node: str) -> None:
    """A node that was killed, started again and back in the swarm (`up` is idempotent)."""
    done = _run("up", timeout=UP_TIMEOUT_S)
    if done.returncode != 0:
        raise ClusterUnavailable(f"bringing {node} back failed:\n{done.stdout}{done.stderr}")
