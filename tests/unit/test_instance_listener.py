"""The instances' listener (orchestrator/instance_listener.py): when it is needed, its URL, and
that it serves the same app on its own address inside the running loop."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from fastapi import FastAPI

from orchestrator.instance_listener import (
    InstanceListener,
    covered_by,
    endpoint,
    own_listener_port,
)


@pytest.mark.parametrize(
    ("main_host", "host", "covered"),
    [
        ("127.0.0.1", "127.0.0.1", True),  # process driver on a loopback server
        ("0.0.0.0", "172.18.0.1", True),
        ("::", "172.18.0.1", True),
        ("127.0.0.1", "172.18.0.1", False),  # docker driver on a loopback server
        ("10.0.0.5", "172.18.0.1", False),
        ("localhost", "127.0.0.1", False),
    ],
)
def test_covered_by(main_host: str, host: str, covered: bool) -> None:
    assert covered_by(main_host, host) is covered


@pytest.mark.parametrize(
    ("main_host", "tls", "instance_host", "host_processes", "port"),
    [
        ("127.0.0.1", False, "127.0.0.1", True, None),  # process driver: the main listener
        ("127.0.0.1", True, "127.0.0.1", True, 0),  # ... unless it speaks TLS: one of their own
        ("127.0.0.1", False, "172.18.0.1", False, 9000),  # docker: the same port on the gateway
        ("127.0.0.1", True, "172.18.0.1", False, 9000),
        ("0.0.0.0", False, "172.18.0.1", False, 0),  # never the main port for isolated instances
        ("0.0.0.0", True, "172.18.0.1", False, 0),
        ("127.0.0.1", False, "127.0.0.1", False, 0),  # swarm: relayed to loopback, still apart
    ],
)
def test_own_listener_port(
    main_host: str, tls: bool, instance_host: str, host_processes: bool, port: int | None
) -> None:
    assert own_listener_port(main_host, 9000, tls, instance_host, host_processes) == port


@pytest.mark.parametrize(
    ("host", "port", "scheme", "url"),
    [
        ("172.18.0.1", 9000, "http", "http://172.18.0.1:9000"),
        ("fd00::1", 9000, "http", "http://[fd00::1]:9000"),
        ("127.0.0.1", 443, "https", "https://127.0.0.1:443"),
    ],
)
def test_endpoint(host: str, port: int, scheme: str, url: str) -> None:
    assert endpoint(host, port, scheme) == url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_it_serves_the_app_until_stopped() -> None:
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.get("/metrics")
    async def metrics() -> dict[str, str]:
        return {"every": "function's figures"}

    port = free_port()
    listener = InstanceListener(app, "127.0.0.2", port)
    await listener.start()
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.2:{port}/ping")
        assert answer.json() == {"pong": "yes"}
        async with httpx.AsyncClient() as client:
            hidden = await client.get(f"http://127.0.0.2:{port}/metrics")
        assert hidden.status_code == 404  # the platform's figures are not the functions'
        with pytest.raises(OSError, match="free that port"):
            await InstanceListener(app, "127.0.0.2", port).start()
    finally:
        await listener.stop()
    anywhere = InstanceListener(app, "127.0.0.2", 0)
    await anywhere.start()
    try:
        assert anywhere.port > 0
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"http://127.0.0.2:{anywhere.port}/ping")).status_code == 200
    finally:
        await anywhere.stop()
    await asyncio.sleep(0)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.2:{port}/ping")
