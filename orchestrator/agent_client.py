"""The control plane's side of the agent protocol (see docs/architecture.md).

One keep-alive HTTP connection per instance: an instance serves one invocation at a time, so one
connection is all it needs, and a warm invoke never opens a new one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httptools


class AgentUnreachable(Exception):
    """The agent did not answer: the instance is dead or broken."""


class UnsafeHeader(ValueError):
    """A header for the agent holds a byte that could end the header or the request (CR, LF,
    NUL or another control character) or one outside ASCII. Nothing was sent: a bug on our side,
    since every value is generated, validated or base64-encoded before it gets here."""


def _header_lines(headers: Sequence[tuple[str, str]]) -> str:
    """`Name: value` lines; UnsafeHeader unless every value is printable ASCII (tabs refused too).

    The names are this module's own literals."""
    for name, value in headers:
        if not (value.isascii() and value.isprintable()):
            raise UnsafeHeader(
                f"refusing to send header {name} to the agent: {value[:60]!r} holds a control "
                "character or a non-ASCII one"
            )
    return "".join(f"{name}: {value}\r\n" for name, value in headers)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


@dataclass(frozen=True)
class InvokeRequest:
    request_id: str
    payload: bytes
    timeout_ms: int
    function_arn: str
    content_type: str = "application/json"
    trace_id: str | None = None
    client_context: str | None = None  # JSON text (the caller's, base64-decoded, validated)
    cognito_identity: str | None = None  # JSON text


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


def _agent_result(h: dict[str, str], body: bytes) -> AgentResult:
    """An AgentResult from the agent's Lambkin-* fields (a reply's headers, or a streamed
    reply's headers and trailers)."""
    init = h.get("lambkin-init-duration-ms")
    memory = h.get("lambkin-max-memory-mb")
    return AgentResult(
        outcome=h.get("lambkin-outcome", "exit"),
        body=body,
        content_type=h.get("content-type", "application/json"),
        error_type=h.get("lambkin-error-type"),
        duration_ms=float(h.get("lambkin-duration-ms", "0")),
        init_duration_ms=float(init) if init else None,
        max_memory_mb=int(memory) if memory else None,
        log_tail_b64=h.get("lambkin-log-tail", ""),
    )


STREAM_QUEUE_HIGH = 8  # chunks waiting for the reader before the socket stops being read
_END = b""  # the queue's end marker (the agent never sends an empty chunk)


class AgentStream:
    """A streaming /invoke's answer, read as it comes (docs/architecture.md, "Agent control
    protocol"): `streamed` when the runtime streamed its response (the outcome then comes in
    the trailers), else the agent's ordinary buffered reply. `chunks()` yields the payload
    (never an error document: that is `result().body`); `result()` once they ended."""

    def __init__(self, connection: _Connection, deadline: float) -> None:
        self._connection = connection
        self._deadline = deadline
        self._queue: asyncio.Queue[bytes | Exception] = asyncio.Queue()
        self._head: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._headers: dict[str, str] = {}
        self._trailers: dict[str, str] = {}
        self._in_trailers = False
        self._paused = False
        self._ended = False
        self._error_body: list[bytes] = []
        self.status = 0
        self.streamed = False
        self.content_type = "application/json"
        self._result: AgentResult | None = None

    # -- httptools callbacks (the connection's parser feeds this object for one response) --

    def on_header(self, name: bytes, value: bytes) -> None:
        target = self._trailers if self._in_trailers else self._headers
        target[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._in_trailers = True
        self.status = self._connection.parser_status()
        self.streamed = self._headers.get("lambkin-response-mode") == "streaming"
        self.content_type = self._headers.get("content-type", "application/json")
        if not self._head.done():
            self._head.set_result(None)

    def on_body(self, body: bytes) -> None:
        if not self._is_payload():
            self._error_body.append(body)
            return
        self._queue.put_nowait(body)
        if self._queue.qsize() >= STREAM_QUEUE_HIGH and not self._paused:
            self._paused = True
            self._connection.pause_reading()

    def on_message_complete(self) -> None:
        self._ended = True
        self._connection.stream_finished(self)
        self._queue.put_nowait(_END)

    def fail(self, exc: Exception) -> None:
        if not self._head.done():
            self._head.set_exception(exc)
        self._queue.put_nowait(exc)

    def _is_payload(self) -> bool:
        """The body is the function's payload (not an error document the agent relays)."""
        return self.status == 200 and (
            self.streamed or self._headers.get("lambkin-outcome") == "success"
        )

    # -- the reader's side ---------------------------------------------------------------

    async def wait_head(self) -> None:
        await self._bounded(self._head)
        if self.status != 200:
            await self._drain()
            raise AgentUnreachable(
                f"agent answered {self.status}: {b''.join(self._error_body)[:200]!r}"
            )

    async def chunks(self) -> AsyncIterator[bytes]:
        while True:
            item = await self._bounded(self._queue.get())
            if self._paused and self._queue.qsize() <= 1:
                self._paused = False
                self._connection.resume_reading()
            if isinstance(item, Exception):
                raise item
            if item is _END:
                return
            yield item

    def result(self) -> AgentResult:
        """The invocation's outcome, once `chunks()` ended."""
        if self._result is None:
            assert self._ended, "the stream has not ended"
            fields = {**self._headers, **self._trailers}
            if self.streamed:
                encoded = self._trailers.get("lambkin-error-body", "")
                body = base64.b64decode(encoded) if encoded else b""
            else:
                body = b"".join(self._error_body)
            self._result = _agent_result(fields, body)
        return self._result

    def abandon(self) -> None:
        """The reader gave up before the end: the connection cannot carry another request."""
        if not self._ended:
            self._connection.close()

    async def _drain(self) -> None:
        async for _ in self.chunks():
            pass

    async def _bounded(self, awaitable: Any) -> Any:
        remaining = self._deadline - asyncio.get_running_loop().time()
        try:
            return await asyncio.wait_for(awaitable, max(remaining, 0))
        except TimeoutError:
            self._connection.close()
            raise AgentUnreachable("the agent did not finish the invocation in time") from None


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection to an agent, one request at a time, parsed by httptools
    (uvicorn's C parser). About 100 us of CPU less per invoke than an aiohttp ClientSession."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[tuple[int, dict[str, str], bytes]] | None = None
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._stream: AgentStream | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(AgentUnreachable(f"bad response from the agent: {exc}"))
            if self._stream is not None:
                self._stream.fail(AgentUnreachable(f"bad response from the agent: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        lost = AgentUnreachable(f"the agent closed the connection ({exc or 'EOF'})")
        self._fail(lost)
        if self._stream is not None:
            self._stream.fail(lost)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        waiter, self._waiter = self._waiter, None
        if not self._parser.should_keep_alive():
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result((self._parser.get_status_code(), self._headers, b"".join(self._body)))

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def start_stream(self, raw: bytes, stream: AgentStream) -> None:
        """Send a request whose answer `stream` reads as it comes: for that one response the
        parser feeds the stream instead of this connection."""
        if self.closed or self._transport is None:
            raise AgentUnreachable("connection closed")
        self._stream = stream
        self._parser = httptools.HttpResponseParser(stream)
        self._transport.write(raw)

    def stream_finished(self, stream: AgentStream) -> None:
        keep_alive = self._parser.should_keep_alive()
        self._stream = None
        self._parser = httptools.HttpResponseParser(self)
        if not keep_alive:
            self.close()

    def parser_status(self) -> int:
        return int(self._parser.get_status_code())

    def pause_reading(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.pause_reading()

    def resume_reading(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.resume_reading()

    async def request(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.closed or self._transport is None:
            raise AgentUnreachable("connection closed")
        self._headers, self._body = {}, []
        self._waiter = asyncio.get_running_loop().create_future()
        self._transport.write(raw)
        return await self._waiter

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


TOKEN_HEADER = "Lambkin-Token"

# Opens a connection to (host, port) by other means than a direct one (drivers/tunnel.py).
Dial = Callable[[str, int], Awaitable[socket.socket]]


class AgentClient:
    def __init__(self, host: str, port: int, token: str, dial: Dial | None = None) -> None:
        self.base_url = f"http://{host}:{port}"
        self._host, self._port = host, port
        self._dial = dial
        # The instance's secret goes on every request (the agent refuses any without it).
        self._head = _header_lines([("Host", f"{host}:{port}"), (TOKEN_HEADER, token)])
        self._connection: _Connection | None = None

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    async def _request(
        self,
        method: str,
        path: str,
        headers: Sequence[tuple[str, str]] = (),
        body: bytes = b"",
        timeout_s: float | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on the instance's connection, opened on first use (or after it broke).

        UnsafeHeader, before anything is written, when a header value could end its header."""
        head = f"{method} {path} HTTP/1.1\r\n{self._head}Content-Length: {len(body)}\r\n"
        raw = (head + _header_lines(headers) + "\r\n").encode("ascii") + body
        try:
            connection = await self._connected()
            return await asyncio.wait_for(connection.request(raw), timeout_s)
        except TimeoutError:
            if self._connection is not None:
                self._connection.close()  # a late answer must not be read as the next one's
            raise AgentUnreachable(
                f"agent at {self.base_url} did not answer within {timeout_s:.1f} s"
            ) from None
        except OSError as exc:
            raise AgentUnreachable(f"agent at {self.base_url} failed: {exc!r}") from None

    def _raw(
        self, method: str, path: str, headers: Sequence[tuple[str, str]], body: bytes
    ) -> bytes:
        head = f"{method} {path} HTTP/1.1\r\n{self._head}Content-Length: {len(body)}\r\n"
        return (head + _header_lines(headers) + "\r\n").encode("ascii") + body

    async def _connected(self) -> _Connection:
        """The instance's connection, opened on first use (or after it broke)."""
        if self._connection is None or self._connection.closed:
            loop = asyncio.get_running_loop()
            if self._dial is None:
                _, self._connection = await loop.create_connection(
                    _Connection, self._host, self._port
                )
            else:
                sock = await self._dial(self._host, self._port)
                _, self._connection = await loop.create_connection(_Connection, sock=sock)
        return self._connection

    async def wait_ready(self, timeout_s: float) -> None:
        """Poll /health until the agent answers (containers take a moment to listen)."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        delay = 0.005
        last_error: Exception | None = None
        while asyncio.get_running_loop().time() < deadline:
            try:
                status, _, _ = await self._request("GET", "/health", timeout_s=5)
                if status == 200:
                    return
            except AgentUnreachable as exc:
                last_error = exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)
        raise AgentUnreachable(
            f"agent at {self.base_url} not ready after {timeout_s:.0f} s: {last_error}"
        )

    async def health(self, timeout_s: float = 5) -> dict[str, Any]:
        """The agent's /health, over the instance's own connection (only when it is not busy)."""
        status, _, body = await self._request("GET", "/health", timeout_s=timeout_s)
        try:
            answer = json.loads(body)
        except ValueError as exc:
            raise AgentUnreachable(f"agent at {self.base_url}: {exc!r}") from None
        if status != 200 or not isinstance(answer, dict):
            raise AgentUnreachable(f"agent at {self.base_url} answered {status}: {body[:200]!r}")
        return answer

    async def invoke(self, request: InvokeRequest, wait_s: float) -> AgentResult:
        headers = self._invoke_headers(request)
        status, h, body = await self._request("POST", "/invoke", headers, request.payload, wait_s)
        if status != 200:
            raise AgentUnreachable(f"agent answered {status}: {body[:200]!r}")
        return _agent_result(h, body)

    async def invoke_stream(self, request: InvokeRequest, wait_s: float) -> AgentStream:
        """A streaming /invoke: returns once the answer's head arrived (the runtime began its
        response, or the invocation ended). AgentUnreachable as `invoke`; the whole answer is
        bounded by `wait_s` from now."""
        headers = [*self._invoke_headers(request), ("Lambkin-Response-Mode", "streaming")]
        raw = self._raw("POST", "/invoke", headers, request.payload)
        loop = asyncio.get_running_loop()
        try:
            connection = await self._connected()
            stream = AgentStream(connection, loop.time() + wait_s)
            connection.start_stream(raw, stream)
        except OSError as exc:
            raise AgentUnreachable(f"agent at {self.base_url} failed: {exc!r}") from None
        await stream.wait_head()
        return stream

    def _invoke_headers(self, request: InvokeRequest) -> list[tuple[str, str]]:
        headers = [
            ("Lambkin-Request-Id", request.request_id),
            ("Lambkin-Timeout-Ms", str(request.timeout_ms)),
            ("Lambkin-Function-Arn", request.function_arn),
            ("Content-Type", request.content_type),
        ]
        if request.trace_id:
            headers.append(("Lambkin-Trace-Id", request.trace_id))
        # The caller's JSON may hold any character, line breaks and non-ASCII ones included.
        if request.client_context:
            headers.append(("Lambkin-Client-Context-B64", _b64(request.client_context)))
        if request.cognito_identity:
            headers.append(("Lambkin-Cognito-Identity-B64", _b64(request.cognito_identity)))
        return headers

    async def specialise(self, settings: dict[str, str]) -> None:
        """Hand a vacant agent its function (drivers' `specialise` made `settings`); its init
        begins at once. AgentUnreachable unless the agent took it."""
        body = json.dumps(settings).encode()
        headers = [("Content-Type", "application/json")]
        status, _, answer = await self._request("POST", "/specialise", headers, body, timeout_s=5)
        if status != 200:
            raise AgentUnreachable(f"agent refused its function ({status}): {answer[:200]!r}")

    async def put_files(self, root: str, tar: bytes) -> None:
        """Unpack `tar` into the vacant agent's `root` (its LAMBKIN_FILE_ROOTS names them)."""
        headers = [("Content-Type", "application/x-tar")]
        status, _, answer = await self._request("PUT", f"/files/{root}", headers, tar, 60)
        if status != 200:
            raise AgentUnreachable(f"agent refused its files ({status}): {answer[:200]!r}")

    async def shutdown(self) -> None:
        try:
            await self._request("POST", "/shutdown", timeout_s=2)
        except AgentUnreachable:
            pass  # already gone; the driver removes it regardless


async def probe_health(
    host: str, port: int, token: str, dial: Dial | None = None
) -> dict[str, Any] | None:
    """The agent's /health over a fresh connection, so it works while the instance is busy;
    through `dial` where the agent cannot be reached directly (the swarm's gateways). None when
    the agent does not answer 200 with a JSON object within 2 s.

    For admin listings only; never on the invoke path.
    """
    client = AgentClient(host, port, token, dial=dial)
    try:
        return await asyncio.wait_for(client.health(timeout_s=2), 2)
    except (TimeoutError, AgentUnreachable, OSError, ValueError):
        return None
    finally:
        await client.close()
