"""An instance's log events, from an agent on another machine to its log file on this one.

The docker driver's agents append to a file the control plane made (log_files.py); a swarm
node's agent cannot, so it writes the same events to a file of its own (a tmpfs) and serves it
(GET /logs, the agent's logserve.go). One `LogFollower` per instance streams that file into the
file log_files.py made for the instance, where the one reader of every driver's files takes
them: the store, /metrics and the API see no difference. The follower asks from the offset it
has written, so a broken connection resumes where it stopped (and the agent frees what came
before); `drain` reads to the end once more before the instance is removed, so stopping loses
no line. A node that dies takes with it what was not yet copied (at most the last ~50 ms).
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

import httptools

from ..agent_client import TOKEN_HEADER, Dial

log = logging.getLogger(__name__)

RETRY_S = 0.5


class _Body:
    """httptools callbacks: the body's bytes go to the file as they come."""

    def __init__(self, follower: LogFollower) -> None:
        self._follower = follower
        self.status = 0
        self.done = False

    def on_body(self, body: bytes) -> None:
        self._follower.write(body)

    def on_message_complete(self) -> None:
        self.done = True


class LogFollower:
    def __init__(self, host: str, port: int, token: str, dial: Dial | None, path: Path) -> None:
        self._host, self._port, self._token, self._dial = host, port, token, dial
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        self.offset = 0  # bytes of the agent's file written here
        self._task: asyncio.Task[None] | None = None

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
            self.offset += written

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            try:
                await self._read(follow=True)
            except (OSError, httptools.HttpParserError) as exc:
                log.debug("log stream of %s broke (%s); resuming", self._host, exc)
            await asyncio.sleep(RETRY_S)

    async def _read(self, follow: bool) -> None:
        if self._dial is not None:
            sock = await self._dial(self._host, self._port)
            reader, writer = await asyncio.open_connection(sock=sock)
        else:
            reader, writer = await asyncio.open_connection(self._host, self._port)
        try:
            query = f"from={self.offset}" + ("&follow=1" if follow else "")
            writer.write(
                f"GET /logs?{query} HTTP/1.1\r\nHost: {self._host}\r\n"
                f"{TOKEN_HEADER}: {self._token}\r\n\r\n".encode("ascii")
            )
            body = _Body(self)
            parser = httptools.HttpResponseParser(body)
            while not body.done:
                data = await reader.read(65536)
                if not data:
                    raise ConnectionResetError("the agent closed the log stream")
                parser.feed_data(data)
                if parser.get_status_code() not in (0, 200):
                    raise ConnectionRefusedError(f"GET /logs: {parser.get_status_code()}")
        finally:
            writer.close()

    async def drain(self, timeout_s: float) -> None:
        """Stop following, then copy what the agent wrote since (best effort: it may be gone)."""
        await self.cancel()
        try:
            await asyncio.wait_for(self._read(follow=False), timeout_s)
        except (OSError, TimeoutError, httptools.HttpParserError) as exc:
            log.info("could not read the rest of %s's log: %s", self._host, exc)

    async def cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait([task])  # (it ends cancelled: nothing to re-raise)

    def close(self) -> None:
        os.close(self._fd)
