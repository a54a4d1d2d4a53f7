"""The log writer: a process of its own that follows the instances' log files (log_files.py) and
stores their events (log_shipping.py, logstore.py), off the control plane's event loop and GIL.

Why a process: storing every line (reading the files, parsing the agents' JSON, SQLite writes)
in a thread of the control plane cost it ~0.15 ms of CPU per invocation and, worse, competed
with the event loop for the GIL at every line (13 futex calls per invocation, measured with
`strace -c` at concurrency 8). In a process of its own it runs beside the control plane on
another core.

The control plane keeps the cheap, synchronous part: it makes each instance's file (with its
header line) before the instance starts, so a driver has the path to hand to the agent at once,
and tells the writer to follow it. Then every command is one message over a pipe, handled in
order: `follow` a new file, `finish` one whose agent is gone (read it to the end, store, delete),
`recover` the files a dead control plane left, `close`. The writer reports lines stored and
dropped per function twice a second, for the control plane's metrics.

Nothing depends on the writer's memory: the files are the durable buffer. The writer dies with
the control plane (PR_SET_PDEATHSIG), so a restarted control plane's writer is the only reader
of the files, and it stores what the old one had not (its recover()).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import signal
import threading
from collections import Counter as Tally
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .log_files import SUFFIX, LogFiles, create_file, reserve_file, write_header
from .log_shipping import LogShipper, LogTarget
from .logstore import LogStore

log = logging.getLogger(__name__)

COUNTS_EVERY_S = 0.5
# The sweep only catches what inotify missed (a finish reads a file to its end anyway): every
# 5 s, a thousand idle instances' files cost the writer ~0.2% of a core instead of ~0.9%.
SWEEP_S = 5.0
CLOSE_TIMEOUT_S = 30.0
_PR_SET_PDEATHSIG = 1

# (function name, lines stored, lines dropped): the control plane's metrics.
LineCounter = Callable[[str, int, int], None]
# X-Ray segments found in the logs, (function name, request id, document) each: the tracer's.
SegmentsSink = Callable[[list[tuple[str, str, str]]], None]
# Segments waiting for the next report; beyond this many, new ones are dropped (and counted):
# a report goes at least every COUNTS_EVERY_S, so only a flood ever reaches it.
MAX_PENDING_SEGMENTS = 20_000


class LogWriter:
    """The control plane's side; what the drivers call (create, finish, recover, close)."""

    def __init__(
        self,
        directory: Path,
        logs_path: Path,
        counter: LineCounter,
        segments: SegmentsSink | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        self.directory = directory
        self._counter = counter
        self._segments = segments
        context = multiprocessing.get_context("spawn")  # not fork: the control plane has threads
        self._pipe, child_end = context.Pipe()
        self._send_lock = threading.Lock()
        self._closed = threading.Event()
        self._closing = threading.Event()
        self._process = context.Process(
            target=_serve,
            args=(directory, logs_path, child_end, os.getpid()),
            name="lambkin-log-writer",
            daemon=True,
        )
        self._process.start()
        child_end.close()
        self._reader = threading.Thread(target=self._listen, name="log-writer-counts", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def create(self, target: LogTarget) -> Path:
        """The file the instance's agent will append to; the writer follows it from now on."""
        path = create_file(self.directory, target)
        self._send(("follow", target.instance_id))
        return path

    def reserve(self, instance_id: str) -> Path:
        """A vacant instance's file (empty, not followed until `claim`)."""
        return reserve_file(self.directory, instance_id)

    def claim(self, target: LogTarget) -> None:
        """The reserved file's instance now serves a function: name it; the writer follows it."""
        write_header(self.directory / f"{target.instance_id}{SUFFIX}", target)
        self._send(("follow", target.instance_id))

    def finish(self, instance_id: str) -> None:
        """The instance's agent is gone: the writer stores the rest of its file and deletes it."""
        self._send(("finish", instance_id))

    def recover(self) -> int:
        """Have the writer store the files nobody follows (left by a control plane that died):
        those here now, not those made after this call (the writer may not follow them yet)."""
        present = sorted(p.name for p in self.directory.iterdir())
        self._send(("recover", present))
        return len(present)  # the files it looks at; what it stored, it logs

    def close(self) -> None:
        """Let the writer store everything it follows, then stop it (the files stay)."""
        if self._closed.is_set():
            return
        self._closing.set()
        self._send(("close",))
        self._process.join(CLOSE_TIMEOUT_S)
        if self._process.is_alive():
            log.warning("the log writer did not stop in %.0f s; killing it", CLOSE_TIMEOUT_S)
            self._process.kill()
            self._process.join(5)
        self._closed.set()
        self._pipe.close()

    def _send(self, message: tuple[Any, ...]) -> None:
        with self._send_lock:
            if self._closed.is_set():
                return
            try:
                self._pipe.send(message)
            except (OSError, ValueError):
                log.error("the log writer is gone: %s is not stored now", message)

    def _listen(self) -> None:
        while True:
            try:
                message = self._pipe.recv()
            except (EOFError, OSError):
                if not self._closing.is_set():
                    log.error("the log writer exited; instances' logs wait in their files")
                return
            kind, payload = message
            if kind == "counts":
                for function, (stored, dropped) in payload.items():
                    self._counter(function, stored, dropped)
            elif kind == "segments" and self._segments is not None:
                try:
                    self._segments(payload)
                except Exception:  # a tracer's failure must not stop the counts
                    log.exception("X-Ray segments could not be traced")


# -- the writer process -------------------------------------------------------------------------


def _die_with(parent_pid: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the prctl took effect
        os._exit(0)


def _serve(directory: Path, logs_path: Path, pipe: Connection, parent_pid: int) -> None:
    _die_with(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the control plane's to handle
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    tally: Tally[tuple[str, str]] = Tally()
    tally_lock = threading.Lock()

    def count(function: str, stored: int, dropped: int) -> None:
        with tally_lock:
            tally[(function, "stored")] += stored
            tally[(function, "dropped")] += dropped

    segments: list[tuple[str, str, str]] = []
    segments_dropped = 0

    def collect(function: str, request_id: str, document: str) -> None:
        nonlocal segments_dropped
        with tally_lock:
            if len(segments) < MAX_PENDING_SEGMENTS:
                segments.append((function, request_id, document))
            else:
                segments_dropped += 1

    store = LogStore(logs_path)
    shipper = LogShipper(store, counter=count, segments=collect)

    files = LogFiles(directory, shipper.open, sweep_s=SWEEP_S)

    def report_counts() -> None:
        nonlocal segments_dropped
        with tally_lock:
            functions = {f for f, _ in tally}
            counts = {f: (tally[(f, "stored")], tally[(f, "dropped")]) for f in functions}
            tally.clear()
            found = segments[:]
            segments.clear()
            if segments_dropped:
                log.warning("%d X-Ray segment(s) dropped: the tracer fell behind", segments_dropped)
                segments_dropped = 0
        if counts:
            pipe.send(("counts", counts))
        if found:
            pipe.send(("segments", found))

    try:
        while True:
            if not pipe.poll(COUNTS_EVERY_S):
                report_counts()
                continue
            try:
                message = pipe.recv()
            except EOFError:  # the control plane is gone without a close
                break
            kind = message[0]
            if kind == "close":
                break
            try:
                if kind == "follow":
                    files.follow(message[1])
                elif kind == "finish":
                    files.finish(message[1])
                elif kind == "recover":
                    recovered = files.recover(set(message[1]))
                    if recovered:
                        log.info("stored the log files of %d instance(s) left before", recovered)
            except Exception:  # one bad file must not stop the others' logs
                log.exception("log writer: %s failed", message)
            report_counts()
    finally:
        files.close()
        shipper.close()
        store.close()
        try:
            report_counts()
        except OSError:
            pass
