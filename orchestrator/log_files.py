"""Instances' log files: each agent appends its log events to a file of its own, and one thread
reads them all into their log feeds (log_shipping.py). Both drivers use it.

Why files: through Docker's json-file driver every line cost dockerd and the container's shim
CPU twice (written to the container log, then streamed back to a follower), about 0.3 ms per
invocation. A file the agent appends to costs the agent one write and the control plane one read,
and the file is the durable buffer: an event is in the host's page cache when the agent's write
returns, so nothing is lost when the runtime, the agent, the container or the control plane
is killed, and a control plane restarted reads out the files its predecessor left.

Layout: `<directory>/<instance id>.log`, made by the control plane before the instance starts,
mode 0660 (the control plane's user and group), beginning with one header line that names the
function, stream and instance, so a file left behind can be stored with nothing else. The
agent opens it for appending; the docker driver bind-mounts it and runs the agent with the
control plane's group, so the function's user can neither read nor write it.

Reading: watchfiles (inotify) wakes the reader when a file grows, and a sweep every
`sweep_s` reads every file anyway, so a missed notification delays lines, never loses them.
Bytes read are punched out of the file (fallocate PUNCH_HOLE), so a long-lived, chatty instance
keeps on disk only what is not stored yet; a backlog beyond `max_backlog_bytes` (the store
cannot keep up) is skipped, and the feed counts and marks the gap from the sequence numbers.
"""

from __future__ import annotations

import ctypes
import errno
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import watchfiles

from .log_names import log_group_name
from .log_shipping import LogTarget

log = logging.getLogger(__name__)
# watchfiles says "N changes detected" at INFO for every batch: under load, tens of lines a second.
logging.getLogger("watchfiles.main").setLevel(logging.WARNING)

HEADER_KEY = "lambkin_log"
SUFFIX = ".log"
READ_CHUNK = 1024 * 1024
PUNCH_STEP = 4 * 1024 * 1024  # free the disk behind the reader in steps this large
_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02


class LogFeed(Protocol):
    """Takes one instance's log events as bytes, as they arrive (log_shipping.StreamFeed)."""

    def feed(self, chunk: bytes) -> None:
        """Any bytes of the stream, in order; may block (back-pressure). From one thread."""

    def close(self) -> None:
        """The stream ended: the instance is gone and everything it wrote was fed."""


# Opens the feed for an instance, named by its file's header.
LogOpener = Callable[[LogTarget], LogFeed]


@dataclass
class _Tail:
    path: Path
    fd: int
    feed: LogFeed
    offset: int
    punched: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    closed: bool = False


def header_line(target: LogTarget) -> bytes:
    """The group is written only when it is not `/aws/lambda/<function>` (a LoggingConfig's),
    the node only when there is one (a driver of several machines)."""
    fields = {
        "function": target.function_name,
        "stream": target.stream_name,
        "instance": target.instance_id,
    }
    if target.group and target.group != log_group_name(target.function_name):
        fields["group"] = target.group
    if target.node:
        fields["node"] = target.node
    return json.dumps({HEADER_KEY: fields}, separators=(",", ":")).encode() + b"\n"


def parse_header(line: bytes) -> LogTarget | None:
    """Whose log the file is, from its first line; None when it is not a header."""
    try:
        fields = json.loads(line)[HEADER_KEY]
        function = str(fields["function"])
        return LogTarget(
            function,
            str(fields["stream"]),
            str(fields["instance"]),
            str(fields.get("group") or log_group_name(function)),
            str(fields.get("node") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def create_file(directory: Path, target: LogTarget) -> Path:
    """An instance's log file, with its header line, for its agent to append to (mode 0660)."""
    path = reserve_file(directory, target.instance_id)
    try:
        write_header(path, target)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def reserve_file(directory: Path, instance_id: str) -> Path:
    """An empty log file for a vacant instance's agent (mode 0660): it writes nothing until a
    function is handed to it, and `write_header` names that function first."""
    path = directory / f"{instance_id}{SUFFIX}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o660)
    try:
        os.fchmod(fd, 0o660)  # whatever the umask: the agent may need the group's write
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    return path


def write_header(path: Path, target: LogTarget) -> None:
    """Name the file's function and stream (before its agent has written anything)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC)
    try:
        if os.fstat(fd).st_size:
            raise ValueError(f"{path} is not empty: it belongs to a function already")
        os.write(fd, header_line(target))
    finally:
        os.close(fd)


class InstanceLogs(Protocol):
    """What a driver does with its instances' log files: LogFiles (in this process) or
    log_writer.LogWriter (in a process of its own)."""

    def create(self, target: LogTarget) -> Path: ...

    def reserve(self, instance_id: str) -> Path: ...

    def claim(self, target: LogTarget) -> None: ...

    def finish(self, instance_id: str) -> None: ...

    def recover(self) -> int: ...

    def close(self) -> None: ...


class LogFiles:
    def __init__(
        self,
        directory: Path,
        opener: LogOpener,
        sweep_s: float = 1.0,
        max_backlog_bytes: int = 256 * 1024 * 1024,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o700)
        self.directory = directory
        self._opener = opener
        self._sweep_s = sweep_s
        self._max_backlog = max_backlog_bytes
        self._tails: dict[str, _Tail] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._can_punch = True
        self._thread = threading.Thread(target=self._run, name="log-files", daemon=True)
        self._thread.start()

    def path_of(self, instance_id: str) -> Path:
        return self.directory / f"{instance_id}{SUFFIX}"

    def create(self, target: LogTarget) -> Path:
        """The file an instance's agent will append to, already followed into its feed."""
        path = create_file(self.directory, target)
        try:
            self.follow(target.instance_id)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return path

    def reserve(self, instance_id: str) -> Path:
        """A vacant instance's file: not followed until `claim` names its function."""
        return reserve_file(self.directory, instance_id)

    def claim(self, target: LogTarget) -> None:
        """The reserved file's instance now serves a function: name it and follow the file."""
        write_header(self.path_of(target.instance_id), target)
        self.follow(target.instance_id)

    def follow(self, instance_id: str) -> None:
        """Feed the instance's file (made by create_file) from its header on."""
        path = self.path_of(instance_id)
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        try:
            first = os.pread(fd, 64 * 1024, 0)
            first = first[: first.find(b"\n") + 1]
            target = parse_header(first)
            if target is None:
                raise ValueError(f"{path} does not begin with a Lambkin log header")
            feed = self._opener(target)
        except BaseException:
            os.close(fd)
            raise
        with self._lock:
            self._tails[instance_id] = _Tail(path, fd, feed, offset=len(first))

    def finish(self, instance_id: str) -> None:
        """The instance's agent is gone: store the rest of its file, close the feed, delete it.
        A vacant instance's file (reserved, never claimed: empty) is only deleted."""
        with self._lock:
            tail = self._tails.pop(instance_id, None)
        if tail is not None:
            self._close(tail)
        else:
            _remove_if_empty(self.path_of(instance_id))

    def recover(self, only: set[str] | None = None) -> int:
        """Store and delete every file nobody follows: left by a control plane that died (call
        once the instances they belonged to are gone); with `only`, of those file names. How
        many there were."""
        with self._lock:
            followed = {tail.path for tail in self._tails.values()}
        recovered = 0
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            if path in followed or (only is not None and path.name not in only):
                continue
            try:
                fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            start = os.pread(fd, 64 * 1024, 0)
            first = start[: start.find(b"\n") + 1]
            target = parse_header(first)
            if not start:  # a vacant instance's, never claimed: nothing to store
                os.close(fd)
                path.unlink(missing_ok=True)
                continue
            if target is None:
                log.warning("%s is not a Lambkin log file; removing it", path)
                os.close(fd)
                path.unlink(missing_ok=True)
                continue
            try:
                feed = self._opener(target)
            except BaseException:
                os.close(fd)
                raise
            self._close(_Tail(path, fd, feed, offset=len(first)))
            recovered += 1
        return recovered

    def close(self) -> None:
        """Stop the reader; the files stay (a later recover() stores what they hold)."""
        self._stop.set()
        self._thread.join(5)
        with self._lock:
            tails, self._tails = list(self._tails.values()), {}
        for tail in tails:
            with tail.lock:
                self._read(tail)
                tail.closed = True
                os.close(tail.fd)

    # -- reading ---------------------------------------------------------------------------------

    def _close(self, tail: _Tail) -> None:
        with tail.lock:
            if tail.closed:
                return
            try:
                self._read(tail)
            finally:
                tail.closed = True
                os.close(tail.fd)
                tail.feed.close()
                tail.path.unlink(missing_ok=True)

    def _run(self) -> None:
        try:
            self._watch()
        except Exception:  # inotify unavailable (e.g. out of watches): sweeps alone still work
            log.warning("cannot watch %s; reading log files by polling", self.directory)
            while not self._stop.wait(min(self._sweep_s, 0.2)):
                self._read_all(None)

    def _watch(self) -> None:
        last_sweep = time.monotonic()
        for changes in watchfiles.watch(
            self.directory,
            watch_filter=None,
            debounce=50,  # under load, gather a few invocations' lines into one read
            step=50,  # how often the watcher looks (idle: 20 wake-ups a second, not 200)
            stop_event=self._stop,
            rust_timeout=max(1, int(self._sweep_s * 1000)),
            yield_on_timeout=True,
            recursive=False,
            raise_interrupt=False,
        ):
            now = time.monotonic()
            if now - last_sweep >= self._sweep_s:
                last_sweep = now
                self._read_all(None)
            elif changes:
                self._read_all(Path(path).name for _, path in changes)

    def _read_all(self, names: Iterable[str] | None) -> None:
        with self._lock:
            if names is None:
                tails = list(self._tails.values())
            else:
                wanted = {name.removesuffix(SUFFIX) for name in names}
                tails = [self._tails[i] for i in wanted if i in self._tails]
        for tail in tails:
            with tail.lock:
                if not tail.closed:
                    try:
                        self._read(tail)
                    except OSError:
                        log.exception("cannot read log file %s", tail.path)

    def _read(self, tail: _Tail) -> None:
        """Feed everything the file holds beyond what was read (tail's lock held)."""
        size = os.fstat(tail.fd).st_size
        if size <= tail.offset:  # the common case of a sweep: nothing new, no read
            return
        if size - tail.offset > self._max_backlog:
            self._skip(tail, size - self._max_backlog // 2)
        while chunk := os.pread(tail.fd, READ_CHUNK, tail.offset):
            tail.offset += len(chunk)
            tail.feed.feed(chunk)
        if tail.offset - tail.punched >= PUNCH_STEP:
            self._punch(tail)

    def _skip(self, tail: _Tail, to: int) -> None:
        """Jump to the first line that starts at or after `to`; the feed sees a gap."""
        probe = os.pread(tail.fd, READ_CHUNK, to)
        newline = probe.find(b"\n")
        if newline < 0:
            return
        log.warning(
            "log file %s is %d MB behind; skipping to its newest lines",
            tail.path.name,
            (to - tail.offset) // 2**20,
        )
        tail.feed.feed(b"\n")  # end the partial line the feed may hold
        tail.offset = to + newline + 1

    def _punch(self, tail: _Tail) -> None:
        end = tail.offset - tail.offset % 4096
        if not self._can_punch or end <= tail.punched:
            return
        if _fallocate(tail.fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, 0, end):
            tail.punched = end
        else:
            self._can_punch = False  # the file system cannot: files grow until the instance ends


def _remove_if_empty(path: Path) -> None:
    try:
        if path.stat().st_size == 0:
            path.unlink()
    except FileNotFoundError:
        pass


_libc = ctypes.CDLL(None, use_errno=True)
_libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong]


def _fallocate(fd: int, mode: int, offset: int, length: int) -> bool:
    if _libc.fallocate(fd, mode, offset, length) == 0:
        return True
    code = ctypes.get_errno()
    if code not in (errno.EOPNOTSUPP, errno.ENOSYS):
        log.warning("fallocate on a log file failed: %s", os.strerror(code))
    return False
