"""A debugger is code execution in the function for whoever connects to it, so its port is the
host's loopback's alone: published on 127.0.0.1 only, never on the host's other addresses, and
unreachable from other instances, whether they aim at the debugged instance itself or at the
host's side of the published port."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from tests.security.hostile import deploy, run
from tests.security.test_host_ports import host_addresses
from tests.support.debug_clients import debugpy_attach, debugpy_session
from tests.support.server import Server, free_port

pytestmark = pytest.mark.docker


def container_of(function: str) -> dict[str, Any]:
    client = docker.from_env()
    try:
        label = f"org.lambkin.function={function}"
        (found,) = client.containers.list(all=True, filters={"label": label})
        attrs: dict[str, Any] = found.attrs
        return attrs
    finally:
        client.close()


@pytest.fixture
def debugged(server: Server) -> Iterator[tuple[str, int]]:
    """A function waiting for its debugger (its invocation held until one attaches)."""
    port = free_port()
    name = deploy(server, Tags={"lambkin:debug": str(port)})
    waiting = threading.Thread(
        target=lambda: server.client(read_timeout=300).invoke(
            FunctionName=name, Payload=json.dumps({"probe": "status"})
        ),
        daemon=True,
    )
    waiting.start()
    debugpy_session(port).close()  # debugpy listens: its adapter answered
    yield name, port
    # Attached and gone again: the held invocation runs and ends before the function goes.
    session = debugpy_attach(port, "/var/task/none.py", 1)
    session.request("disconnect", terminateDebuggee=False)
    session.close()
    waiting.join(60)
    assert not waiting.is_alive()
    server.client().delete_function(FunctionName=name)


def test_the_debug_port_is_published_on_loopback_only(
    server: Server, debugged: tuple[str, int]
) -> None:
    name, port = debugged
    bindings = container_of(name)["HostConfig"]["PortBindings"]
    assert bindings == {f"{port}/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}, bindings
    for address in host_addresses():  # the host's other addresses do not answer on it
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()


def test_other_instances_cannot_reach_a_debugger(server: Server, debugged: tuple[str, int]) -> None:
    name, port = debugged
    networks = container_of(name)["NetworkSettings"]["Networks"]
    instance_address = next(iter(networks.values()))["IPAddress"]
    targets = [f"{instance_address}:{port}"] + [f"{a}:{port}" for a in host_addresses()]

    started = time.monotonic()
    tried = run(server, deploy(server), {"probe": "connect", "targets": targets})

    for target in targets:
        assert tried[target]["ok"] is False, f"{target} answered: {tried[target]}"
    assert time.monotonic() - started < 60


def test_a_function_connected_to_its_own_debugger_still_times_out(server: Server) -> None:
    """The timeout is suspended while a debugger is attached; the function's own code connecting
    to its debug port (from itself and from a child in another session) is not one."""
    port = free_port()
    name = deploy(server, Timeout=2, Tags={"lambkin:debug": str(port)})
    lam = server.client(read_timeout=300)
    first = threading.Thread(
        target=lambda: lam.invoke(FunctionName=name, Payload=json.dumps({"probe": "status"})),
        daemon=True,
    )
    first.start()
    session = debugpy_attach(port, "/var/task/none.py", 1)  # attached, then gone again
    session.request("disconnect", terminateDebuggee=False)
    session.close()
    first.join(60)
    assert not first.is_alive()

    networks = container_of(name)["NetworkSettings"]["Networks"]
    own_address = next(iter(networks.values()))["IPAddress"]
    event = {"probe": "hold", "targets": [f"127.0.0.1:{port}", f"{own_address}:{port}"]}
    started = time.monotonic()
    reply = lam.invoke(FunctionName=name, Payload=json.dumps({**event, "sleep": 8}))
    body = json.loads(reply["Payload"].read())
    assert reply.get("FunctionError") == "Unhandled", body
    assert "Task timed out after 2.00 seconds" in body["errorMessage"], body
    assert time.monotonic() - started < 6
    lam.delete_function(FunctionName=name)
