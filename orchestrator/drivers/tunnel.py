"""Connections to agents that the control plane cannot reach directly: through a gateway that
speaks HTTP CONNECT (the swarm driver's: the agent binary as `lambkin-agent gateway`,
runtime-images/agent/gateway.go).

`Gateway.dial(host, port)` returns a connected, non-blocking socket on which the agent's side
begins: the agent client (agent_client.py) then speaks its protocol on it as on a direct
connection, so a warm invoke costs one gateway hop and nothing else.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field

# The gateway answers a CONNECT at once (it only opens a connection): a slow answer is a fault.
HANDSHAKE_TIMEOUT_S = 5.0
MAX_ANSWER_BYTES = 4096
TOKEN_HEADER = "Lambkin-Gateway-Token"


class TunnelFailed(OSError):
    """The gateway could not be reached, or refused or failed the connection."""


@dataclass(frozen=True)
class Gateway:
    host: str
    port: int
    token: str = field(repr=False)

    async def dial(self, host: str, port: int) -> socket.socket:
        """A socket connected to host:port through the gateway; TunnelFailed otherwise."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
                await loop.sock_connect(sock, (self.host, self.port))
                await loop.sock_sendall(sock, connect_request(host, port, self.token))
                answer = b""
                while b"\r\n\r\n" not in answer:
                    chunk = await loop.sock_recv(sock, 1)  # never past the head: the rest is
                    if not chunk:  # the agent's
                        raise TunnelFailed(f"gateway {self.host}:{self.port} closed the tunnel")
                    answer += chunk
                    if len(answer) > MAX_ANSWER_BYTES:
                        raise TunnelFailed("gateway answer too long")
        except TimeoutError:
            sock.close()
            raise TunnelFailed(
                f"gateway {self.host}:{self.port} did not connect {host}:{port} within "
                f"{HANDSHAKE_TIMEOUT_S:.0f} s"
            ) from None
        except BaseException:
            sock.close()
            raise
        status = answer.split(b"\r\n", 1)[0]
        if status.split(b" ")[1:2] != [b"200"]:
            sock.close()
            raise TunnelFailed(f"gateway refused {host}:{port}: {status.decode(errors='replace')}")
        return sock


def connect_request(host: str, port: int, token: str) -> bytes:
    return (
        f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n{TOKEN_HEADER}: {token}\r\n\r\n"
    ).encode("ascii")


def accept_request(token: str) -> bytes:
    """The offer of a connection for an instance's call to the API (swarm_api_relay.py)."""
    return f"ACCEPT api HTTP/1.1\r\n{TOKEN_HEADER}: {token}\r\n\r\n".encode("ascii")
