"""The swarm gateway (what it lets through) and the tunnel's handshake with it, over real
loopback sockets: a gateway in this process, an echo server standing in for an agent."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from orchestrator.drivers.swarm_gateway import Gateway as GatewayServer
from orchestrator.drivers.swarm_gateway import target_of
from orchestrator.drivers.tunnel import Gateway, TunnelFailed, connect_request

POOL = [ipaddress.IPv4Network("10.213.0.0/16")]
TOKEN = b"t0ken"


@pytest.mark.parametrize(
    ("head", "answer"),
    [
        (connect_request("10.213.4.2", 9002, "t0ken"), ("10.213.4.2", 9002)),
        (connect_request("10.213.4.2", 9002, "wrong"), b"407 Proxy Authentication Required"),
        (b"CONNECT 10.213.4.2:9002 HTTP/1.1\r\nHost: x", b"407 Proxy Authentication Required"),
        (connect_request("10.213.4.2", 22, "t0ken"), b"403 Forbidden"),  # agents' port only
        (connect_request("172.21.0.1", 9002, "t0ken"), b"403 Forbidden"),  # the pool only
        (connect_request("lkswarm-registry", 9002, "t0ken"), b"400 Bad Request"),  # no names
        (b"GET / HTTP/1.1\r\nHost: x", b"405 Method Not Allowed"),
    ],
)
def test_target_of(head: bytes, answer: object) -> None:
    assert target_of(head.removesuffix(b"\r\n\r\n"), TOKEN, POOL, 9002) == answer


async def test_a_tunnel_carries_bytes_both_ways_and_a_refusal_is_an_error() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.read(100))
        await writer.drain()
        writer.close()

    agent = await asyncio.start_server(echo, "127.0.0.1", 0)
    agent_port = agent.sockets[0].getsockname()[1]
    gateway = GatewayServer(TOKEN, [ipaddress.IPv4Network("127.0.0.0/8")], agent_port)
    server = await asyncio.start_server(gateway.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    async with agent, server:
        sock = await Gateway("127.0.0.1", port, "t0ken").dial("127.0.0.1", agent_port)
        await loop.sock_sendall(sock, b"ping")
        assert await loop.sock_recv(sock, 100) == b"ping"
        sock.close()
        with pytest.raises(TunnelFailed, match="407"):
            await Gateway("127.0.0.1", port, "nope").dial("127.0.0.1", agent_port)
        with pytest.raises(TunnelFailed, match="403"):
            await Gateway("127.0.0.1", port, "t0ken").dial("127.0.0.1", agent_port + 1)


async def test_idle_handshakes_are_bounded() -> None:
    """Connections that never send their CONNECT hold a slot each; past MAX_PENDING, the next
    one is closed at once (and a slot frees when one of them goes)."""
    from orchestrator.drivers.swarm_gateway import MAX_PENDING

    gateway = GatewayServer(TOKEN, POOL, 9002)
    server = await asyncio.start_server(gateway.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        idle = [await asyncio.open_connection("127.0.0.1", port) for _ in range(MAX_PENDING)]
        await asyncio.sleep(0.1)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(reader.read(10), 2) == b""  # closed, unread
        writer.close()
        for _, w in idle:
            w.close()
