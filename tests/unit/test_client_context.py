"""The control plane's client-context validation against the shared table
(tests/support/client_contexts.py; tests/integration/test_go_agent.py checks the agent agrees on
every row), and agent_client's header guard."""

from __future__ import annotations

import asyncio
import json

import pytest

from orchestrator import agent_client
from orchestrator.client_context import runtime_json_header
from tests.support.client_contexts import REFUSED, RENDERED


@pytest.mark.parametrize(("text", "header"), RENDERED)
def test_runtime_json_header_is_compact_ascii_json(text: str, header: str) -> None:
    assert runtime_json_header(text) == header
    assert header.isascii() and header.isprintable()
    assert json.loads(header) == json.loads(text)


@pytest.mark.parametrize("text", ["", *REFUSED, '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"])
def test_runtime_json_header_refuses_what_is_not_a_json_object(text: str) -> None:
    with pytest.raises(ValueError):
        runtime_json_header(text)


@pytest.mark.parametrize(
    "field",
    [
        {"request_id": "r1\r\nLambkin-Timeout-Ms: 1"},
        {"function_arn": "arn:aws:lambda:us-east-1:000000000000:function:fn\n"},
        {"trace_id": "Root=1\x00"},
        {"content_type": "application/json\r"},
        {"trace_id": "Root=1-€"},
        {"request_id": "r1\x7f"},
    ],
)
async def test_agent_client_refuses_header_values_that_could_end_a_header(
    field: dict[str, str],
) -> None:
    """Defence in depth: such a value is never written; the agent sees no connection at all."""
    connections: list[bytes] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(await reader.read(65536))
        writer.close()

    listener = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    client = agent_client.AgentClient("127.0.0.1", port, "t0ken")
    fields: dict[str, str] = {"request_id": "r1", "function_arn": "arn", **field}
    request = agent_client.InvokeRequest(payload=b"{}", timeout_ms=1000, **fields)
    try:
        with pytest.raises(agent_client.UnsafeHeader, match="refusing to send header"):
            await client.invoke(request, wait_s=5)
        await asyncio.sleep(0.05)
    finally:
        await client.close()
        listener.close()
        await listener.wait_closed()
    assert connections == []
