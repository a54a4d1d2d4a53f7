"""The swarm driver's gateway: how the control plane, a process on a host outside the swarm,
reaches agents on overlay networks.

Each instance has an overlay network of its own (so no two instances share a network: they
cannot reach one another), and this gateway, one container on the manager node, is attached to
every one of them. It listens on its own bridge address only, published on the manager's
address, and serves HTTP CONNECT: the control plane asks for `<instance address>:9002`, the
gateway opens that connection and then copies bytes both ways (tunnel.py is the other end).

What it refuses: a request without the gateway's token (instances can reach the manager's
address too, through their nodes' NAT, so the port alone proves nothing); a target that is not
an IPv4 address in the instances' address pool, or not the agents' control port (nothing else
of the cluster, the host or the registry can be reached through it).

Standard library only: the driver runs this file's text with `python3 -c` in a container of
the Python runtime's image, which every node already pulls.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import socket

TOKEN_HEADER = b"lambkin-gateway-token"
MAX_HEAD_BYTES = 4096
# Connections that have not shown the token yet, at most: an instance on this node can reach
# the port, and must not be able to fill the gateway with idle handshakes.
MAX_PENDING = 64
HEAD_TIMEOUT_S = 5
COPY_BYTES = 256 * 1024


def target_of(
    head: bytes, token: bytes, allowed: list[ipaddress.IPv4Network], port: int
) -> tuple[str, int] | bytes:
    """The (address, port) a CONNECT head asks for, or the status line refusing it."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[0] != b"CONNECT":
        return b"405 Method Not Allowed"
    offered = b""
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == TOKEN_HEADER:
            offered = value.strip()
    if not hmac.compare_digest(offered, token):
        return b"407 Proxy Authentication Required"
    host, _, port_text = parts[1].decode("ascii", "replace").rpartition(":")
    try:
        address = ipaddress.IPv4Address(host)
        wanted = int(port_text)
    except ValueError:
        return b"400 Bad Request"
    if wanted != port or not any(address in network for network in allowed):
        return b"403 Forbidden"
    return str(address), wanted


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(COPY_BYTES):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


class Gateway:
    def __init__(self, token: bytes, allowed: list[ipaddress.IPv4Network], port: int) -> None:
        self._token, self._allowed, self._port = token, allowed, port
        self._pending = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._pending >= MAX_PENDING:
            writer.close()
            return
        self._pending += 1
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, OSError):
            writer.close()
            return
        finally:
            self._pending -= 1
        target = target_of(head[:-4], self._token, self._allowed, self._port)
        if isinstance(target, bytes):
            writer.write(b"HTTP/1.1 " + target + b"\r\nConnection: close\r\n\r\n")
            writer.close()
            return
        try:
            agent_reader, agent_writer = await asyncio.wait_for(asyncio.open_connection(*target), 5)
        except (OSError, TimeoutError):
            writer.write(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n")
            writer.close()
            return
        for w in (writer, agent_writer):
            w.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        await asyncio.gather(_copy(reader, agent_writer), _copy(agent_reader, writer))


async def main() -> None:
    token = os.environ["LAMBKIN_GATEWAY_TOKEN"].encode()
    allowed = [ipaddress.IPv4Network(n) for n in os.environ["LAMBKIN_GATEWAY_ALLOW"].split(",")]
    agent_port = int(os.environ["LAMBKIN_GATEWAY_AGENT_PORT"])
    # The bridge address (the only network at start): never one of the instances' overlays.
    listen = socket.gethostbyname(socket.gethostname())
    gateway = Gateway(token, allowed, agent_port)
    server = await asyncio.start_server(
        gateway.handle, listen, int(os.environ["LAMBKIN_GATEWAY_PORT"]), limit=MAX_HEAD_BYTES
    )
    print(f"lambkin gateway listening on {listen}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
