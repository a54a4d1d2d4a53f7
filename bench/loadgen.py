"""A small HTTP/1.1 load generator: keep-alive connections, asyncio, httptools' C parser.

Kept small so that it can be read whole and trusted, and cheap so that on a small machine it
steals as little CPU as possible from what it measures (about 40 µs of CPU per request, a
quarter of aiohttp's client). It sends one pre-built request over and over; responses are
parsed (Content-Length or chunked) but their bodies are only counted, not kept.

Two ways to drive load:

- `closed_loop(concurrency)`: N workers, each sending its next request as soon as the previous
  one returns. Latency is per request. At one worker this is "one client"; it cannot suffer
  from coordinated omission because there is no schedule to fall behind.
- `open_loop(rate)`: requests are due on a fixed schedule; latency is measured from each one's
  *intended* send time, so a stall also counts against every request it delays (no coordinated
  omission), even when only a few connections are available.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httptools

DEFAULT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Target:
    """Where one HTTP endpoint is and how a POST to it looks."""

    name: str
    host: str
    port: int
    path: str
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)

    def request(self, body: bytes) -> bytes:
        head = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Content-Length: {len(body)}",
        ]
        head += [f"{name}: {value}" for name, value in self.headers]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class ResponseError(Exception):
    """The connection failed or the response could not be parsed."""


class Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time."""

    def __init__(self) -> None:
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._waiter: asyncio.Future[tuple[int, int]] | None = None
        self._body_bytes = 0
        self.closed = False

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, host, port)
        return protocol

    # -- asyncio.Protocol -----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's are not asyncio.Transport

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ResponseError(f"bad response: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ResponseError(f"connection lost: {exc or 'closed by peer'}"))

    # -- httptools callbacks --------------------------------------------------------------------

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)

    def on_message_complete(self) -> None:
        waiter, self._waiter = self._waiter, None
        if not self._parser.should_keep_alive():
            self.close()
        if waiter is not None and not waiter.done():
            waiter.set_result((self._parser.get_status_code(), self._body_bytes))

    # -- use ------------------------------------------------------------------------------------

    def _fail(self, exc: Exception) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    async def send(
        self, raw_request: bytes, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> tuple[int, int]:
        """Send one request; (status, response body bytes)."""
        if self.closed or self._transport is None:
            raise ResponseError("connection closed")
        loop = asyncio.get_running_loop()
        self._body_bytes = 0
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(timeout_s, self._timed_out, waiter, timeout_s)
        self._transport.write(raw_request)
        try:
            status, size = await waiter
            return status, size
        finally:
            timer.cancel()

    def _timed_out(self, waiter: asyncio.Future[tuple[int, int]], timeout_s: float) -> None:
        if not waiter.done():
            waiter.set_exception(ResponseError(f"no response within {timeout_s:.0f} s"))
            self.close()

    def close(self) -> None:
        self.closed = True
        if self._transport is not None:
            self._transport.close()


@dataclass
class LoadResult:
    """What one load run saw. Latencies only of successful (2xx) responses, in ms."""

    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    per_second: list[int] = field(default_factory=list)  # completions in each whole second
    response_bytes: set[int] = field(default_factory=set)

    @property
    def completed(self) -> int:
        return len(self.latencies_ms)

    @property
    def failed(self) -> int:
        return sum(self.errors.values()) + sum(
            n for status, n in self.statuses.items() if not 200 <= status < 300
        )

    @property
    def throughput(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s else 0.0

    def record(
        self, status: int, body_bytes: int, start_ns: int, end_ns: int, origin_ns: int
    ) -> None:
        self.statuses[status] += 1
        if 200 <= status < 300:
            self.latencies_ms.append((end_ns - start_ns) / 1e6)
            self.response_bytes.add(body_bytes)
            second = (end_ns - origin_ns) // 1_000_000_000
            if second >= 0:
                while len(self.per_second) <= second:
                    self.per_second.append(0)
                self.per_second[second] += 1


async def _connect(target: Target) -> Connection:
    return await Connection.open(target.host, target.port)


async def closed_loop(
    target: Target,
    body: bytes,
    concurrency: int = 1,
    duration_s: float | None = None,
    requests_per_worker: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> LoadResult:
    """`concurrency` workers, each sending back to back, for `duration_s` or N requests each.

    Connections are opened before the clock starts. With `requests_per_worker=1` this is a
    burst: every worker sends one request at the same moment.
    """
    assert (duration_s is None) != (requests_per_worker is None), "give a duration or a count"
    raw = target.request(body)
    result = LoadResult()
    connections = await asyncio.gather(*(_connect(target) for _ in range(concurrency)))
    origin = time.perf_counter_ns()
    stop_at = origin + int(duration_s * 1e9) if duration_s is not None else None

    async def worker(connection: Connection) -> None:
        sent = 0
        while True:
            if stop_at is not None and time.perf_counter_ns() >= stop_at:
                break
            if requests_per_worker is not None and sent >= requests_per_worker:
                break
            sent += 1
            start = time.perf_counter_ns()
            try:
                status, size = await connection.send(raw, timeout_s)
            except ResponseError as exc:
                result.errors[str(exc).split(":")[0]] += 1
                connection.close()
                try:
                    connection = await _connect(target)
                except OSError as exc2:
                    result.errors[f"reconnect failed: {exc2.strerror}"] += 1
                    return
                continue
            result.record(status, size, start, time.perf_counter_ns(), origin)
        connection.close()

    await asyncio.gather(*(worker(c) for c in connections))
    result.elapsed_s = (time.perf_counter_ns() - origin) / 1e9
    if stop_at is not None:
        # The last second is usually partial; drop it from the per-second counts.
        result.per_second = result.per_second[: int(duration_s or 0)]
    return result


async def open_loop(
    target: Target,
    body: bytes,
    rate_per_s: float,
    duration_s: float,
    connections: int = 1,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> LoadResult:
    """Requests due every 1/rate s; latency counted from when each was *due* to be sent.

    A request waits for a free connection (at most `connections`), and that wait is part of its
    latency, as it would be for a real client whose request arrived on time.
    """
    raw = target.request(body)
    result = LoadResult()
    free: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in await asyncio.gather(*(_connect(target) for _ in range(connections))):
        free.put_nowait(connection)
    interval_ns = int(1e9 / rate_per_s)
    count = max(1, int(rate_per_s * duration_s))
    origin = time.perf_counter_ns() + 5_000_000
    tasks: list[asyncio.Task[None]] = []

    async def one(due: int) -> None:
        connection = await free.get()
        try:
            # The event loop's timers may wake a little early: never count from before the send.
            start = min(due, time.perf_counter_ns())
            status, size = await connection.send(raw, timeout_s)
            result.record(status, size, start, time.perf_counter_ns(), origin)
        except ResponseError as exc:
            result.errors[str(exc).split(":")[0]] += 1
            connection.close()
            connection = await _connect(target)
        finally:
            free.put_nowait(connection)

    for i in range(count):
        due = origin + i * interval_ns
        delay = (due - time.perf_counter_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    result.elapsed_s = (time.perf_counter_ns() - origin) / 1e9
    while not free.empty():
        free.get_nowait().close()
    return result
