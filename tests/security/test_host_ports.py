"""An instance cannot open connections to its host (any of the host's addresses, any port) except
to the ports a server declares meant for instances (LAMBKIN_INSTANCE_HOST_PORTS); it is refused
at once, not left hanging. Outbound traffic to other machines stays allowed, as on Lambda."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.security.hostile import deploy, run
from tests.support.host_listener import GREETING, Listener
from tests.support.server import Server, start_server
from tests.support.sink import docker_gateway

pytestmark = pytest.mark.docker


@pytest.fixture
def listener() -> Iterator[Listener]:
    on_host = Listener()
    yield on_host
    on_host.close()


def host_addresses() -> list[str]:
    """This machine's own addresses as an instance sees them: its end of Lambkin's bridge and of
    Docker's default bridge, and its own primary address."""
    client = docker.from_env()
    try:
        config = client.api.inspect_network("lambkin")["IPAM"]["Config"][0]
    finally:
        client.close()
    primary = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return sorted({config["Gateway"], docker_gateway(), *primary[:1]})


def test_the_hosts_ports_are_shut_to_instances(server: Server, listener: Listener) -> None:
    targets = [f"{address}:{listener.port}" for address in host_addresses()]

    tried = run(server, deploy(server), {"probe": "connect", "targets": targets})

    for target in targets:
        assert tried[target]["ok"] is False, f"{target} answered: {tried[target]}"
        assert tried[target]["errno"] == "ECONNREFUSED", tried[target]
        assert tried[target]["seconds"] < 2, f"refused at once, not left hanging: {tried[target]}"
    assert listener.connections == 0


def test_ports_meant_for_instances_are_open_while_their_server_runs(
    server: Server, listener: Listener, tmp_path: Path
) -> None:
    target = f"{host_addresses()[0]}:{listener.port}"
    allowing = start_server(
        "docker", tmp_path, env={"LAMBKIN_INSTANCE_HOST_PORTS": json.dumps([listener.port])}
    )
    try:
        reached = run(allowing, deploy(allowing), {"probe": "connect", "targets": [target]})
        assert (reached[target]["ok"], reached[target].get("value")) == (True, GREETING)
    finally:
        assert allowing.stop() == 0, allowing.log()
    # Its rules left with it; the other server's instances are refused again.
    again = run(server, deploy(server), {"probe": "connect", "targets": [target]})
    assert again[target]["errno"] == "ECONNREFUSED", again[target]


def test_open_access_lets_instances_reach_every_host_port(
    server: Server, listener: Listener, tmp_path: Path
) -> None:
    """What LAMBKIN_INSTANCE_HOST_ACCESS=open means (and the probe can succeed at all)."""
    targets = [f"{address}:{listener.port}" for address in host_addresses()]
    opened = start_server("docker", tmp_path, env={"LAMBKIN_INSTANCE_HOST_ACCESS": "open"})
    try:
        reached = run(opened, deploy(opened), {"probe": "connect", "targets": targets})
        for target in targets:
            assert (reached[target]["ok"], reached[target].get("value")) == (True, GREETING)
        assert listener.connections == len(targets)
        assert "every function can reach every port of this host" in opened.log()
    finally:
        assert opened.stop() == 0, opened.log()


@pytest.fixture
def outside() -> Iterator[Listener]:
    """Another machine: a network namespace routed from the host (198.18.0.0/30, a range set
    aside for such tests), with a listener on 198.18.0.2."""
    name = f"lk{secrets.token_hex(3)}"
    setup = [
        ["ip", "netns", "add", name],
        ["ip", "link", "add", f"{name}a", "type", "veth", "peer", "name", f"{name}b"],
        ["ip", "link", "set", f"{name}b", "netns", name],
        ["ip", "addr", "add", "198.18.0.1/30", "dev", f"{name}a"],
        ["ip", "link", "set", f"{name}a", "up"],
        ["ip", "netns", "exec", name, "ip", "addr", "add", "198.18.0.2/30", "dev", f"{name}b"],
        ["ip", "netns", "exec", name, "ip", "link", "set", f"{name}b", "up"],
        ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
    ]
    try:
        for command in setup:
            subprocess.run(command, check=True, capture_output=True)
        far = Listener("198.18.0.2", netns=name)
        yield far
        far.close()
    finally:
        subprocess.run(["ip", "link", "del", f"{name}a"], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_outbound_traffic_to_other_machines_is_allowed(server: Server, outside: Listener) -> None:
    target = f"198.18.0.2:{outside.port}"

    reached = run(server, deploy(server), {"probe": "connect", "targets": [target]})

    assert reached[target]["ok"] is True, reached[target]
    assert reached[target]["value"] == GREETING
