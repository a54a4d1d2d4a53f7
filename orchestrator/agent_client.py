"""The control plane's side of the agent protocol (see docs/architecture.md).

One keep-alive HTTP connection per instance: an instance serves one invocation at a time, so one
connection is all it needs, and a warm invoke never opens a new one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp

# aiohttp closes idle keep-alive connections after 15 s by default; an instance may sit idle for
# many minutes and must still be invoked without a new connection.
_KEEPALIVE_S = 24 * 3600.0


class AgentUnreachable(Exception):
    """The agent did not answer: the instance is dead or broken."""


@dataclass(frozen=True)
class InvokeRequest:
    request_id: str
    payload: bytes
    timeout_ms: int
    function_arn: str
    content_type: str = "application/json"
    trace_id: str | None = None
    client_context: str | None = None
    cognito_identity: str | None = None


@dataclass(frozen=True)
class AgentResult:
    outcome: str  # success, function_error, init_error, timeout, exit, response_too_large
    body: bytes
    content_type: str
    error_type: str | None
    duration_ms: float
    init_duration_ms: float | None
    max_memory_mb: int | None
    log_tail_b64: str

    @property
    def succeeded(self) -> bool:
        return self.outcome == "success"


class AgentClient:
    def __init__(self, host: str, port: int) -> None:
        self.base_url = f"http://{host}:{port}"
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1, keepalive_timeout=_KEEPALIVE_S, enable_cleanup_closed=False),
            timeout=aiohttp.ClientTimeout(total=None),
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )

    async def close(self) -> None:
        await self._session.close()

    async def wait_ready(self, timeout_s: float) -> None:
        """Poll /health until the agent answers (containers take a moment to listen)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        delay = 0.005
        last_error: Exception | None = None
        while asyncio.get_running_loop().time() < deadline:
            try:
                async with self._session.get(f"{self.base_url}/health") as response:
                    if response.status == 200:
                        await response.read()
                        return
            except (aiohttp.ClientError, OSError) as exc:
                last_error = exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        raise AgentUnreachable(f"agent at {self.base_url} not ready after {timeout_s:.0f} s: {last_error}")

    async def health(self) -> dict[str, Any]:
        """The agent's /health, over the instance's own connection (only when it is not busy)."""
        try:
            async with self._session.get(f"{self.base_url}/health", timeout=aiohttp.ClientTimeout(total=5)) as response:
                return await response.json()  # type: ignore[no-any-return]
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError) as exc:
            raise AgentUnreachable(f"agent at {self.base_url}: {exc!r}") from None

    async def invoke(self, request: InvokeRequest, wait_s: float) -> AgentResult:
        headers = {
            "Lambkin-Request-Id": request.request_id,
            "Lambkin-Timeout-Ms": str(request.timeout_ms),
            "Lambkin-Function-Arn": request.function_arn,
            "Content-Type": request.content_type,
        }
        if request.trace_id:
            headers["Lambkin-Trace-Id"] = request.trace_id
        if request.client_context:
            headers["Lambkin-Client-Context"] = request.client_context
        if request.cognito_identity:
            headers["Lambkin-Cognito-Identity"] = request.cognito_identity
        try:
            async with self._session.post(
                f"{self.base_url}/invoke",
                data=request.payload,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=wait_s),
            ) as response:
                body = await response.read()
                if response.status != 200:
                    raise AgentUnreachable(f"agent answered {response.status}: {body[:200]!r}")
                h = response.headers
                init = h.get("Lambkin-Init-Duration-Ms")
                memory = h.get("Lambkin-Max-Memory-Mb")
                return AgentResult(
                    outcome=h.get("Lambkin-Outcome", "exit"),
                    body=body,
                    content_type=h.get("Content-Type", "application/json"),
                    error_type=h.get("Lambkin-Error-Type"),
                    duration_ms=float(h.get("Lambkin-Duration-Ms", "0")),
                    init_duration_ms=float(init) if init else None,
                    max_memory_mb=int(memory) if memory else None,
                    log_tail_b64=h.get("Lambkin-Log-Tail", ""),
                )
        except asyncio.TimeoutError:
            raise AgentUnreachable(f"agent at {self.base_url} did not answer within {wait_s:.1f} s") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise AgentUnreachable(f"agent at {self.base_url} failed: {exc!r}") from None

    async def shutdown(self) -> None:
        try:
            async with self._session.post(f"{self.base_url}/shutdown", timeout=aiohttp.ClientTimeout(total=2)) as r:
                await r.read()
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
            pass  # already gone; the driver removes it regardless


async def probe_health(host: str, port: int) -> dict[str, Any] | None:
    """The agent's /health over a fresh connection, so it works while the instance is busy.

    For admin listings only; never on the invoke path.
    """
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
            async with session.get(f"http://{host}:{port}/health") as response:
                return await response.json()  # type: ignore[no-any-return]
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError):
        return None
