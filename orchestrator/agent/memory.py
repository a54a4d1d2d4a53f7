"""Max memory used, measured (never copied from the configured size).

`cgroup`: the peak of our own memory cgroup (v2 `memory.peak`, v1 `memory.max_usage_in_bytes`):
the directory /proc/self/cgroup names when it is visible, else the mount's root (which is the
container's own cgroup inside a container); `proc` when none is readable.
`proc`: the sum of VmHWM (peak resident set) over the runtime's process tree.
"""

from __future__ import annotations

import os
import time
from typing import Protocol

CGROUP_V2_ROOT = "/sys/fs/cgroup"
CGROUP_V1_ROOT = "/sys/fs/cgroup/memory"
V2_FILES = ("memory.peak", "memory.events")  # (peak, where oom_kill is counted)
V1_FILES = ("memory.max_usage_in_bytes", "memory.oom_control")


class MemoryMeter(Protocol):
    source: str

    def peak_bytes(self, runtime_pid: int | None) -> int:
        """Peak memory so far; 0 when unknown (e.g. the runtime already exited)."""
        ...

    def oom_kills(self) -> int | None:
        """How many times the OOM killer struck, when the source can tell."""
        ...


def _counter(path: str, key: str) -> int | None:
    try:
        with open(path, "rb") as f:
            for line in f:
                name, _, value = line.partition(b" ")
                if name.decode() == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return None


class CgroupMemory:
    source = "cgroup"

    def __init__(self, peak_path: str, oom_path: str) -> None:
        self._fd = os.open(peak_path, os.O_RDONLY | os.O_CLOEXEC)  # kept open: one pread a sample
        self._oom_path = oom_path
        self.peak_bytes(None)  # fails now, not on the first invoke, if unreadable

    def peak_bytes(self, runtime_pid: int | None) -> int:
        return int(os.pread(self._fd, 64, 0))

    def oom_kills(self) -> int | None:
        return _counter(self._oom_path, "oom_kill")


def _vm_hwm_bytes(status: bytes) -> int:
    start = status.find(b"VmHWM:")
    if start < 0:
        return 0  # a zombie
    end = status.find(b"\n", start)
    return int(status[start + 6 : end].split()[0]) * 1024


def process_tree(root: int) -> list[int]:
    """`root` and all its descendants, via /proc/<pid>/task/<tid>/children."""
    pids = [root]
    for pid in pids:  # grows while we walk it
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                    pids.extend(int(child) for child in f.read().split())
            except OSError:
                continue
    return pids


class ProcTreeMemory:
    """Status files stay open (one pread each a sample); the tree is walked again at most every
    RESCAN_S, since walking it costs more than the rest of an invoke. Not thread-safe: the
    sandbox calls it under its lock."""

    source = "proc"
    RESCAN_S = 0.1

    def __init__(self) -> None:
        self._root: int | None = None
        self._status_fds: dict[int, int] = {}
        self._scanned_at = 0.0

    def peak_bytes(self, runtime_pid: int | None) -> int:
        if runtime_pid is None:
            return 0
        now = time.monotonic()
        if runtime_pid != self._root or now - self._scanned_at > self.RESCAN_S:
            self._rescan(runtime_pid)
            self._scanned_at = now
        total = 0
        for pid, fd in list(self._status_fds.items()):
            try:
                total += _vm_hwm_bytes(os.pread(fd, 4096, 0))
            except OSError:  # gone (an open status file never follows a reused pid)
                os.close(self._status_fds.pop(pid))
        return total

    def _rescan(self, root: int) -> None:
        self._root = root
        pids = set(process_tree(root))
        for pid in set(self._status_fds) - pids:
            os.close(self._status_fds.pop(pid))
        for pid in pids - set(self._status_fds):
            try:
                self._status_fds[pid] = os.open(f"/proc/{pid}/status", os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue

    def oom_kills(self) -> int | None:
        return None


def cgroup_candidates(proc_self_cgroup: str) -> list[tuple[str, str]]:
    """(peak file, oom file) pairs to try, most specific first."""
    own_v2 = own_v1 = ""
    for line in proc_self_cgroup.splitlines():
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hierarchy == "0" and not controllers:
            own_v2 = path.strip("/")
        elif "memory" in controllers.split(","):
            own_v1 = path.strip("/")
    dirs = [(f"{CGROUP_V2_ROOT}/{own_v2}", V2_FILES)] if own_v2 else []
    dirs.append((CGROUP_V2_ROOT, V2_FILES))
    if own_v1:
        dirs.append((f"{CGROUP_V1_ROOT}/{own_v1}", V1_FILES))
    dirs.append((CGROUP_V1_ROOT, V1_FILES))
    return [(f"{d}/{peak}", f"{d}/{oom}") for d, (peak, oom) in dirs]


def memory_meter(source: str) -> MemoryMeter:
    if source == "cgroup":
        try:
            with open("/proc/self/cgroup") as f:
                own = f.read()
        except OSError:
            own = ""
        for peak, oom in cgroup_candidates(own):
            try:
                return CgroupMemory(peak, oom)
            except (OSError, ValueError):
                continue
    return ProcTreeMemory()
