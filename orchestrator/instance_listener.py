"""The API where functions reach it: a second listener of the same app, on the host's address
as the instances see it (the docker bridge's gateway), for functions that call the platform
with their role's credentials (`AWS_ENDPOINT_URL_LAMBDA`).

The main listener usually binds loopback, which a container cannot reach; binding every address
instead would expose the API to the network. This one binds only the instances' side, and every
request on it is authenticated like any other (it exists only on a server with credentials).
It speaks plain HTTP even when the main listener has TLS: the bridge never leaves this host, and
instances cannot see one another's traffic on it.
"""

from __future__ import annotations

import ipaddress
import logging
import socket

import uvicorn
from fastapi import FastAPI
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from .actions import METRICS_PATH
from .http_protocol import CoalescingHttpToolsProtocol

log = logging.getLogger(__name__)


def covered_by(main_host: str, host: str) -> bool:
    """Whether the main listener already accepts connections made to `host`."""
    if main_host == host or main_host in ("", "0.0.0.0", "::"):
        return True
    try:
        return ipaddress.ip_address(main_host).is_unspecified
    except ValueError:  # a name such as localhost: only its own addresses
        return False


def own_listener_port(
    main_host: str, main_port: int, tls: bool, instance_host: str, host_processes: bool
) -> int | None:
    """The port for a listener of the instances' own on `instance_host` (0: any free one), or
    None when the main listener may serve them.

    Isolated instances (docker: the bridge's gateway; swarm: a relay from the host's loopback)
    always get a listener of their own, so that only that port is opened to them, never the
    main one, and /metrics is not served to them. Instances that are host processes (the
    process driver) on loopback: nothing stands between them and the main listener anyway,
    unless it speaks TLS they cannot check."""
    if not covered_by(main_host, instance_host):
        return main_port  # the same port, on the instances' side of the host
    if host_processes and ipaddress.ip_address(instance_host).is_loopback and not tls:
        return None
    return 0  # the main port is taken there


def endpoint(host: str, port: int, scheme: str = "http") -> str:
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


class InstanceListener:
    """Serves `app` on (host, port) inside the main server's event loop, without its lifespan
    (the main listener runs that) and without taking its signals."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self._app = app
        self._config = uvicorn.Config(
            self._serve,
            interface="asgi3",  # a bound method: uvicorn would not guess it
            host=host,
            port=port,
            lifespan="off",
            log_level="warning",
            access_log=False,
            http=CoalescingHttpToolsProtocol,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(self._config)
        self._socket: socket.socket | None = None
        self.host, self.port = host, port

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, but for /metrics: the platform's figures about every function are not
        for the functions (Prometheus scrapes the main listener)."""
        if scope["type"] == "http" and scope["path"] == METRICS_PATH:
            response = PlainTextResponse("Not Found", status_code=404)
            await response(scope, receive, send)
            return
        await self._app(scope, receive, send)

    async def start(self) -> None:
        """Listen; OSError (with what to do) when the address cannot be bound."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(
                f"cannot listen on {self.host}:{self.port} for the functions' calls ({exc}): "
                "free that port on the instances' network, or serve on another --port"
            ) from None
        self._socket = sock
        self.port = int(sock.getsockname()[1])  # the one chosen, when asked for any (0)
        self._config.load()
        # uvicorn's serve() would capture SIGINT/SIGTERM for itself; startup() and shutdown()
        # are the parts of it that listen and stop, and need only the lifespan it would make.
        self._server.lifespan = self._config.lifespan_class(self._config)
        await self._server.startup(sockets=[sock])
        log.info("functions reach the API at %s", endpoint(self.host, self.port))

    async def stop(self) -> None:
        if self._socket is not None:
            await self._server.shutdown(sockets=[self._socket])
            self._socket = None
