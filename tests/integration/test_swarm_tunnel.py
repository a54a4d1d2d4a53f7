"""The control plane's ends of a swarm gateway against the real one: the agent binary as
`lambkin-agent gateway` (runtime-images/agent/gateway.go and apirelay.go, whose own tests hold
the policy's table), on loopback. The tunnel to an agent (tunnel.py), an echo server standing
in for the agent; the relay of instances' API calls (swarm_api_relay.py), an echo server
standing in for the API. No Docker: the swarm tests run the same binary on the nodes."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator

import pytest

from orchestrator.agent_binary import agent_binary
from orchestrator.drivers.swarm_api_relay import ApiRelay
from orchestrator.drivers.tunnel import Gateway, TunnelFailed

TOKEN = "t0ken"


@pytest.fixture
def echo_port() -> Iterator[int]:
    """An echo server on loopback, in a thread of its own (the test's loop dials it)."""
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                while data := conn.recv(65536):
                    conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def start_gateway(
    agent_port: int, api: bool = False
) -> tuple[subprocess.Popen[bytes], int, int | None]:
    """The gateway on 127.0.0.1, ports chosen by the kernel (it prints what it bound): its own,
    and the one instances call the API at when `api`."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "LAMBKIN_GATEWAY_TOKEN": TOKEN,
        "LAMBKIN_GATEWAY_ALLOW": "127.0.0.0/8",
        "LAMBKIN_GATEWAY_AGENT_PORT": str(agent_port),
        "LAMBKIN_GATEWAY_PORT": "0",
        "LAMBKIN_GATEWAY_LISTEN": "127.0.0.1",
    }
    if api:
        env |= {"LAMBKIN_GATEWAY_API_PORT": "0", "LAMBKIN_GATEWAY_API_LISTEN": "127.0.0.1"}
    process = subprocess.Popen(
        [str(agent_binary()), "gateway"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    line = process.stdout.readline().decode().strip()
    assert line.startswith("lambkin gateway listening on 127.0.0.1:"), line
    ports = [int(part.rsplit(":", 1)[1]) for part in line.split(", ")]
    return process, ports[0], ports[1] if api else None


async def test_a_tunnel_carries_bytes_both_ways_and_refusals_are_errors(echo_port: int) -> None:
    process, port, _ = start_gateway(echo_port)
    loop = asyncio.get_running_loop()
    try:
        sock = await Gateway("127.0.0.1", port, TOKEN).dial("127.0.0.1", echo_port)
        payload = os.urandom(300_000)  # past the gateway's copy buffer
        await loop.sock_sendall(sock, payload)
        echoed = b""
        while len(echoed) < len(payload):
            echoed += await loop.sock_recv(sock, 65536)
        assert echoed == payload
        sock.close()
        with pytest.raises(TunnelFailed, match="407"):
            await Gateway("127.0.0.1", port, "nope").dial("127.0.0.1", echo_port)
        with pytest.raises(TunnelFailed, match="403"):  # the agents' port only
            await Gateway("127.0.0.1", port, TOKEN).dial("127.0.0.1", echo_port + 1)
        with pytest.raises(TunnelFailed, match="403"):  # the pool only
            await Gateway("127.0.0.1", port, TOKEN).dial("10.9.9.9", echo_port)
    finally:
        process.kill()
        process.wait()


def test_the_gateway_refuses_to_start_without_its_settings() -> None:
    done = subprocess.run(
        [str(agent_binary()), "gateway"],
        env={"LAMBKIN_GATEWAY_ALLOW": "10.0.0.0/8"},
        capture_output=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert b"LAMBKIN_GATEWAY_TOKEN is not set" in done.stderr, done.stderr


async def test_instances_api_calls_reach_the_api_through_offered_connections(
    echo_port: int,
) -> None:
    """What an instance sends to its gateway's API port arrives at the API's listener (here an
    echo) over a connection the relay offered, and the answer comes back; every call uses an
    offer of its own, replaced at once, so more calls than offers at a time still pass."""
    process, port, api_port = start_gateway(9002, api=True)
    assert api_port is not None
    relay = ApiRelay(
        lambda: {"node-1": Gateway("127.0.0.1", port, TOKEN)}, ("127.0.0.1", echo_port)
    )
    relay.start()

    async def call(n: int) -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", api_port)
        message = f"call {n} ".encode() * 1000
        writer.write(message)
        await writer.drain()
        writer.write_eof()
        echoed = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        assert echoed == message
        return echoed

    try:
        answers = await asyncio.gather(*(call(n) for n in range(12)))  # 3 rounds of offers
        assert len(answers) == 12
    finally:
        await relay.close()
        process.kill()
        process.wait()
