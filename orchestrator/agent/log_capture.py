"""The runtime's output: every line goes to the agent's stdout as one JSON log event; the current
segment is kept (as plain text) for the 4 KB log tail. Also the START / END / REPORT lines in
AWS's format.

Log events on stdout are one JSON object a line, `{"s": seq, "t": epoch_ms, "r": request_id,
"p": phase, "m": message}`: `s` counts from 1 per agent and never repeats, so whoever ships them
(the control plane) can deliver at least once and drop duplicates; `p` is `init` (printed while
the runtime initialises), `invoke` (between START and REPORT) or `idle`. A line is split on
`\n` only (runtimes keep a multi-line record as one line with `\r` separators, as AWS's do) and a
line longer than MAX_LINE_BYTES is split, never dropped. Writes to stdout block when nobody reads
fast enough: back-pressure reaches the runtime through its pipe, nothing is dropped. Only when
stdout is gone for good are lines dropped, and counted.

The runtime's stdout and stderr share one pipe, so lines keep the order they were written in.
Pipes are read by one thread each, but only under the capture lock, and `drain()` reads whatever
is left under the same lock: once a runtime has printed a line and then posted its response,
`drain()` guarantees the line is accounted to that invocation. No byte is ever in limbo between a
reader thread and the segment.
"""

from __future__ import annotations

import errno
import json
import math
import os
import select
import threading
import time
from collections.abc import Iterable

TAIL_BYTES = 4096
MAX_LINE_BYTES = 256 * 1024  # a longer line without a newline is cut, as CloudWatch does
_READ_CHUNK = 65536


def start_line(request_id: str, version: str) -> bytes:
    return f"START RequestId: {request_id} Version: {version}\n".encode()


def end_line(request_id: str) -> bytes:
    return f"END RequestId: {request_id}\n".encode()


def report_line(
    request_id: str,
    duration_ms: float,
    memory_size_mb: int,
    max_memory_mb: int,
    init_duration_ms: float | None,
) -> bytes:
    text = (
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
        f"\tBilled Duration: {math.ceil(duration_ms)} ms\tMemory Size: {memory_size_mb} MB"
        f"\tMax Memory Used: {max_memory_mb} MB"
    )
    if init_duration_ms is not None:
        text += f"\tInit Duration: {init_duration_ms:.2f} ms"
    return (text + "\n").encode()


def init_report_line(init_ms: float, status: str, error_type: str | None) -> bytes:
    text = f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: {status}"
    return (text + (f"\tError Type: {error_type}" if error_type else "") + "\n").encode()


def timestamped_line(request_id: str, message: str) -> bytes:
    """`2026-11-27T13:06:32.563Z <id> <message>`, as Lambda prints its own notices."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
    return f"{stamp} {request_id} {message}\n".encode()


class PipeReader:
    """Reads one runtime pipe (non-blocking fd) into a LogCapture, line by line."""

    def __init__(self, fd: int, capture: LogCapture, name: str) -> None:
        os.set_blocking(fd, False)
        self._fd = fd
        self._capture = capture
        self._partial = b""
        self.eof = False
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        while True:
            poller.poll()
            with self._capture._lock:
                self.read_available_locked()
                if self.eof:
                    break
        os.close(self._fd)  # only this thread closes: a drain() never reads a reused fd number

    def read_available_locked(self) -> None:
        """Consume everything the pipe holds right now (caller holds the capture lock)."""
        while not self.eof:
            try:
                data = os.read(self._fd, _READ_CHUNK)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                data = b""
            if not data:
                self.flush_partial_locked()
                self.eof = True
                return
            self._feed_locked(data)
            if len(data) < _READ_CHUNK:
                return

    def _feed_locked(self, data: bytes) -> None:
        buffer = self._partial + data if self._partial else data
        cut = buffer.rfind(b"\n") + 1
        if cut:
            self._capture._emit_locked(buffer[:cut])
            buffer = buffer[cut:]
        while len(buffer) >= MAX_LINE_BYTES:
            self._capture._emit_locked(buffer[:MAX_LINE_BYTES] + b"\n")
            buffer = buffer[MAX_LINE_BYTES:]
        self._partial = buffer

    def flush_partial_locked(self) -> None:
        """An unterminated last line counts as a line (a print without newline before exit)."""
        if self._partial:
            self._capture._emit_locked(self._partial + b"\n")
            self._partial = b""


class LogCapture:
    """All output towards the agent's stdout, plus the bounded segment being collected."""

    def __init__(self, out_fd: int) -> None:
        self._lock = threading.Lock()
        self._out_fd = out_fd
        self._out_broken = False
        self._segment: bytearray | None = None
        self._seq = 0
        self._context = '"r":"","p":"init"'  # pre-encoded request id and phase of new events
        self.dropped = 0  # lines lost because stdout is gone

    def set_context(self, request_id: str, phase: str) -> None:
        """Tag the events that follow with this request id and phase."""
        with self._lock:
            self._context = f'"r":{json.dumps(request_id)},"p":{json.dumps(phase)}'

    @property
    def sequence(self) -> int:
        return self._seq

    def attach(self, fds: Iterable[int], label: str) -> tuple[PipeReader, ...]:
        return tuple(
            PipeReader(fd, self, name=f"runtime-output-{label}-{i}") for i, fd in enumerate(fds)
        )

    def _emit_locked(self, data: bytes) -> None:
        if self._segment is not None:
            self._segment += data
            if len(self._segment) > 2 * TAIL_BYTES:
                del self._segment[:-TAIL_BYTES]
        if self._out_broken:
            self.dropped += data.count(b"\n")
            return
        self._write_locked(self._encode_locked(data))

    def _encode_locked(self, data: bytes) -> bytes:
        """Complete lines of text -> one JSON event line each, numbered."""
        lines = data.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        stamp = int(time.time() * 1000)
        head = f',"t":{stamp},{self._context},"m":'
        seq = self._seq
        out = []
        for line in lines:
            seq += 1
            message = json.dumps(line.decode("utf-8", "replace"))
            out.append(f'{{"s":{seq}{head}{message}}}\n')
        self._seq = seq
        return "".join(out).encode()

    def _write_locked(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._out_fd, view)
                view = view[written:]
        except OSError:
            self._out_broken = True  # nobody reads our stdout any more; keep the runtime going
            self.dropped += bytes(view).count(b"\n")

    def write(self, data: bytes) -> None:
        """The agent's own lines (START, END, REPORT, notices): stdout and the segment."""
        with self._lock:
            self._emit_locked(data)

    def write_control(self, data: bytes) -> None:
        """A line for whoever runs the agent (the ready line), not a log event."""
        with self._lock:
            if not self._out_broken:
                self._write_locked(data)

    def drain(self, readers: Iterable[PipeReader]) -> None:
        """Account everything the runtime has written so far (including unterminated lines)."""
        with self._lock:
            for reader in readers:
                reader.read_available_locked()
                reader.flush_partial_locked()

    def start_segment(self) -> None:
        with self._lock:
            self._segment = bytearray()

    def take_segment(self) -> bytes:
        """Stop collecting; the last TAIL_BYTES of what was collected (b"" if nothing was)."""
        with self._lock:
            segment, self._segment = self._segment, None
        return bytes(segment[-TAIL_BYTES:]) if segment else b""
