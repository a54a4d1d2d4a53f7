"""What the benchmark reads from the machine: /proc, container cgroups, the docker CLI.

Everything is read from outside the system under test, the way an operator would see it.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")

# -- processes ----------------------------------------------------------------------------------


def cpu_seconds(pid: int, reaped_children: bool = False) -> float:
    """User + system CPU time of one process (all its threads), and optionally of its children
    that have exited and been waited for (e.g. the `runc` runs of a containerd shim)."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rsplit(b")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    if reaped_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLK_TCK


def _status_kb(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_bytes(pid: int) -> int:
    return _status_kb(pid, "VmRSS") * 1024


def peak_rss_bytes(pid: int) -> int:
    return _status_kb(pid, "VmHWM") * 1024


def pss_bytes(pid: int) -> int:
    """Proportional set size: shared pages (the interpreter's own code) split among sharers."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss_bytes(pid)


def children_map() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def helpers_of(pid: int) -> list[int]:
    """The control plane's own helper processes (its log writer, and multiprocessing's resource
    tracker): its children started by multiprocessing, not instances."""
    found = []
    for child in children_map().get(pid, []):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as f:
                if b"multiprocessing" in f.read():
                    found.append(child)
        except OSError:
            continue
    return found


def descendants(pid: int, tree: dict[int, list[int]] | None = None) -> list[int]:
    tree = tree if tree is not None else children_map()
    out, todo = [], list(tree.get(pid, []))
    while todo:
        child = todo.pop()
        out.append(child)
        todo.extend(tree.get(child, []))
    return out


def tree_cpu_seconds(pids: list[int]) -> float:
    """CPU of these processes themselves (not their children); one that is gone counts 0."""
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


ENGINE_COMMANDS = (
    "dockerd",
    "containerd",
    "containerd-shim",
    "containerd-shim-runc-v2"[:15],
    "docker-proxy",
)


def engine_pids() -> list[int]:
    """The container engine's processes (dockerd, containerd, the per-container shims): they
    carry every instance's stdout to the log driver, which an invocation's log lines cost."""
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/comm") as f:
                    if f.read().strip() in ENGINE_COMMANDS:
                        pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def engine_cpu() -> dict[int, float]:
    """CPU seconds of each engine process, with its reaped children (runc, docker-init setup)."""
    out = {}
    for pid in engine_pids():
        try:
            out[pid] = cpu_seconds(pid, reaped_children=True)
        except OSError:
            continue
    return out


def engine_cpu_since(before: dict[int, float]) -> float:
    """Engine CPU since `before` (an engine_cpu() reading); shims started since then count whole."""
    return sum(now - before.get(pid, 0.0) for pid, now in engine_cpu().items())


def mem_available_bytes() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    """Samples a process's RSS in the background of an asyncio run; keeps the maximum."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.max_bytes = 0
        self.samples = 0

    def sample(self) -> None:
        try:
            self.max_bytes = max(self.max_bytes, rss_bytes(self.pid))
            self.samples += 1
        except OSError:
            pass


# -- containers ---------------------------------------------------------------------------------


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return (
        subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode
        == 0
    )


def docker(*args: str, timeout: float = 60) -> str:
    done = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}... failed: {done.stderr.strip()}")
    return done.stdout


@dataclass(frozen=True)
class Container:
    id: str
    pid: int
    ip: str

    @classmethod
    def inspect(cls, *ids: str) -> list[Container]:
        """The containers among `ids` that still exist (one may be removed while we look)."""
        if not ids:
            return []
        fmt = "{{.Id}} {{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}"
        done = subprocess.run(
            ["docker", "inspect", "--format", fmt, *ids],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0 and "No such object" not in done.stderr:
            raise RuntimeError(f"docker inspect failed: {done.stderr.strip()}")
        out = done.stdout
        containers = []
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] != "0":  # pid 0: not running (exited, being removed)
                containers.append(cls(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else ""))
        return containers


def containers_with_label(label: str) -> list[Container]:
    ids = docker("ps", "-q", "--no-trunc", "--filter", f"label={label}").split()
    return Container.inspect(*ids)


def _cgroup_dir(pid: int, controller: str) -> Path:
    """The cgroup directory of a process for a controller, v1 or v2 (unified)."""
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return Path(f"/sys/fs/cgroup/{controller}{path}")
    for line in lines:
        if line.startswith("0::"):
            return Path("/sys/fs/cgroup" + line[3:])
    raise FileNotFoundError(f"no {controller} cgroup for pid {pid}")


def _stat_file(path: Path) -> dict[str, int]:
    out = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition(" ")
        out[key] = int(value)
    return out


def container_memory(container: Container) -> dict[str, int]:
    """Usage, working set (usage minus inactive file cache, as `docker stats` shows), anon RSS."""
    directory = _cgroup_dir(container.pid, "memory")
    if (directory / "memory.usage_in_bytes").exists():  # cgroup v1
        usage = int((directory / "memory.usage_in_bytes").read_text())
        stat = _stat_file(directory / "memory.stat")
        inactive = stat.get("total_inactive_file", stat.get("inactive_file", 0))
        rss = stat.get("total_rss", stat.get("rss", 0))
    else:
        usage = int((directory / "memory.current").read_text())
        stat = _stat_file(directory / "memory.stat")
        inactive = stat.get("inactive_file", 0)
        rss = stat.get("anon", 0)
    return {"usage": usage, "working_set": max(0, usage - inactive), "rss": rss}


def container_cpu_seconds(container: Container) -> float:
    try:
        directory = _cgroup_dir(container.pid, "cpuacct")
        if (directory / "cpuacct.usage").exists():
            return int((directory / "cpuacct.usage").read_text()) / 1e9
    except FileNotFoundError:
        pass
    directory = _cgroup_dir(container.pid, "cpu")
    return _stat_file(directory / "cpu.stat")["usage_usec"] / 1e6


def containers_cpu_seconds(containers: list[Container]) -> float:
    total = 0.0
    for container in containers:
        try:
            total += container_cpu_seconds(container)
        except (OSError, KeyError):
            pass
    return total


def docker_events(since: float, until: float, *filters: str) -> list[dict[str, Any]]:
    """Container events in [since, until] (unix seconds), oldest first, as docker reports them."""
    args = [
        "events",
        "--since",
        f"{since:.6f}",
        "--until",
        f"{until:.6f}",
        "--format",
        "{{json .}}",
    ]
    for item in ("type=container", *filters):
        args += ["--filter", item]
    return [json.loads(line) for line in docker(*args).splitlines() if line.strip()]


# -- the machine --------------------------------------------------------------------------------


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict[str, Any]:
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": round(os.sysconf("SC_PHYS_PAGES") * PAGE / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": loadavg(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        info["docker"] = docker("version", "--format", "{{.Server.Version}}", timeout=10).strip()
        info["cgroup"] = docker(
            "info", "--format", "{{.CgroupVersion}} {{.CgroupDriver}}", timeout=10
        ).strip()
    except (RuntimeError, OSError, subprocess.TimeoutExpired):
        info["docker"] = None
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def git_revision(repo: Path) -> str | None:
    done = subprocess.run(
        ["git", "-C", str(repo), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None
