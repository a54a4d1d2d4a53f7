"""From an instance's agent log to the log store: parse, dedupe, batch, write.

Each instance's agent appends its log events to a file the control plane made for it
(log_files.py follows every such file, for both drivers) and the bytes are `feed`-ed to that
instance's `StreamFeed`, from one thread. The feed splits lines, parses the agent's JSON events
(runtime-images/agent/logcapture.go; `"k":"platform"` marks the agent's own records), skips
what was already stored
(sequence numbers: delivery is at least once), notices gaps (a line the agent numbered but we
never received: counted as dropped, and a visible marker line takes its place) and queues the
events. One writer thread stores them in batches.

Memory is bounded: `feed` blocks while more than `max_pending_bytes` wait to be written, which
stops the file reader; what is not read yet waits in the files (on disk, bounded there by
log_files.py). Nothing is dropped for being fast up to that bound.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from .log_names import log_group_name
from .logstore import LogStore, Row, StreamKey

log = logging.getLogger(__name__)

DROPPED_MARKER = "[lambkin] {n} log line(s) were lost before they could be stored"
_EVENT_PREFIX = b'{"s":'
_MAX_PARTIAL = 4 * 1024 * 1024  # a line longer than this (agents cut at 256 KB) is not ours


@dataclass(frozen=True)
class LogTarget:
    """Where one instance's log goes."""

    function_name: str
    stream_name: str
    instance_id: str
    group: str = ""  # LoggingConfig.LogGroup; "" is `/aws/lambda/<function>`
    node: str = ""  # the machine the instance runs on (drivers of several); its stream's label

    @property
    def key(self) -> StreamKey:
        return StreamKey(self.group or log_group_name(self.function_name), self.stream_name)


# (function name, lines stored, lines dropped): for metrics.
Counter = Callable[[str, int, int], None]
# (function name, request id, document): an X-Ray segment the function's SDK sent its agent
# (runtime-images/agent/xray.go), for the tracer; never stored as a log line.
SegmentSink = Callable[[str, str, str], None]


class LogShipper:
    def __init__(
        self,
        store: LogStore,
        counter: Counter | None = None,
        segments: SegmentSink | None = None,
        max_pending_bytes: int = 8 * 1024 * 1024,
        max_batch_events: int = 20_000,
        linger_s: float = 0.05,
    ) -> None:
        self._store = store
        self._counter = counter
        self.segments = segments
        self._max_pending = max_pending_bytes
        self._max_batch = max_batch_events
        self._linger_s = linger_s  # gather a few invocations' lines into one transaction
        self._flushing = 0
        self._cond = threading.Condition()
        self._queue: deque[tuple[LogTarget, list[Row], int, int, int]] = (
            deque()
        )  # target, rows, bytes, dropped, markers
        self._pending_bytes = 0
        self._writing = False
        self._closed = False
        self.stored = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()

    def open(self, target: LogTarget) -> StreamFeed:
        """A feed for one instance's agent stdout (from its very start)."""
        return StreamFeed(self, target, self._store.open_stream(target.key, target.node))

    def _put(self, target: LogTarget, rows: list[Row], dropped: int, markers: int) -> None:
        size = sum(len(r.message) for r in rows) + 64 * len(rows)
        with self._cond:
            while self._pending_bytes > self._max_pending and not self._closed:
                self._cond.wait()  # back-pressure
            was_empty = not self._queue
            self._queue.append((target, rows, size, dropped, markers))
            self._pending_bytes += size
            if was_empty or self._pending_bytes > self._max_pending // 2:
                # Otherwise the writer is lingering anyway: do not wake it for every line.
                self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue and self._closed:
                    return
                if self._linger_s and not self._closed and not self._flushing:
                    # One transaction per batch is what costs: under load, let a batch fill.
                    self._cond.wait_for(
                        lambda: (
                            self._closed
                            or self._flushing
                            or self._pending_bytes > self._max_pending // 2
                        ),
                        self._linger_s,
                    )
                taken, count = [], 0
                while self._queue and count < self._max_batch:
                    item = self._queue.popleft()
                    taken.append(item)
                    count += len(item[1])
                self._writing = True
            try:
                self._store.append((target.key, rows) for target, rows, _, _, _ in taken)
            except Exception:
                log.exception("could not store %d log events; they are lost", count)
                taken = [(t, [], s, d + len(r) - m, 0) for t, r, s, d, m in taken]
            per_function: dict[str, list[int]] = {}
            for target, rows, _, dropped, markers in taken:
                totals = per_function.setdefault(target.function_name, [0, 0])
                totals[0] += len(rows) - markers
                totals[1] += dropped
            with self._cond:
                for _, _, size, _, _ in taken:
                    self._pending_bytes -= size
                self._writing = False
                self._cond.notify_all()
            for function, (stored, dropped) in per_function.items():
                self.stored += stored
                self.dropped += dropped
                if self._counter is not None:
                    self._counter(function, stored, dropped)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything fed so far is stored (no lingering meanwhile)."""
        with self._cond:
            self._flushing += 1
            self._cond.notify_all()
            try:
                return self._cond.wait_for(lambda: not self._queue and not self._writing, timeout)
            finally:
                self._flushing -= 1

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)


class StreamFeed:
    """One instance's agent stdout, as it arrives. Not thread-safe: one reader per instance."""

    def __init__(self, shipper: LogShipper, target: LogTarget, last_seq: int) -> None:
        self._shipper = shipper
        self.target = target
        self.last_seq = last_seq  # everything up to here is stored (or counted as dropped)
        self._partial = b""
        self.duplicates = 0

    def feed(self, chunk: bytes) -> None:
        data = self._partial + chunk if self._partial else chunk
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        if len(self._partial) > _MAX_PARTIAL:
            self._other(self._partial[:200])
            self._partial = b""
        if cut:
            self._lines(data[:cut].split(b"\n")[:-1])

    def close(self) -> None:
        """The stream ended (the instance is gone): what is left is all there will be."""
        if self._partial:
            self._lines([self._partial])
            self._partial = b""

    def _lines(self, lines: list[bytes]) -> None:
        rows: list[Row] = []
        dropped = markers = 0
        last = self.last_seq
        for line in lines:
            if not line.startswith(_EVENT_PREFIX):
                self._other(line)
                continue
            try:
                event = json.loads(line)
                seq = int(event["s"])
                row = Row(
                    seq,
                    int(event["t"]),
                    str(event.get("r", "")),
                    str(event["m"]),
                    platform=event.get("k") == "platform",
                )
            except (ValueError, KeyError, TypeError):
                self._other(line)
                continue
            if seq <= last:
                self.duplicates += 1
                continue
            if seq > last + 1:
                gap = seq - last - 1
                dropped += gap
                markers += 1
                marker = DROPPED_MARKER.format(n=gap)
                rows.append(Row(last + 1, row.ts, row.request_id, marker, platform=True))
            last = seq
            if event.get("k") == "xray":  # numbered with the lines, so deduplicated alike
                self._segment(row.request_id, row.message)
                continue
            rows.append(row)
        self.last_seq = last
        if rows or dropped:
            self._shipper._put(self.target, rows, dropped, markers)

    def _segment(self, request_id: str, document: str) -> None:
        sink = self._shipper.segments
        if sink is None or not request_id:
            return
        try:
            sink(self.target.function_name, request_id, document)
        except Exception:  # the tracer's trouble must never cost the logs
            log.exception("an X-Ray segment of %s was not handed on", self.target.function_name)

    def _other(self, line: bytes) -> None:
        """Not a log event (log_files.py starts feeding after the file's header line, and the
        ready line goes to the agent's stdout): kept in the server's log for whoever debugs."""
        text = line.decode(errors="replace").rstrip()
        if text:
            log.info("agent: %s", text[:1000], extra={"instance": self.target.instance_id})
