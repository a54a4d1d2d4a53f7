"""Memory: the control plane's RSS, each idle instance's memory, and the bare interpreter's."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
import uuid
from typing import Any

from . import sysinfo
from .lambkin import Lambkin

MIB = 2**20
IDLE_SCRIPT = "import time; time.sleep(600)"


def _mib(value: float) -> float:
    return round(value / MIB, 2)


def interpreter_in_container(image: str, memory_mb: int = 128) -> dict[str, Any]:
    """A bare `python3` sleeping in a container of the runtime image: the interpreter itself."""
    name = f"lambkin-bench-python-{uuid.uuid4().hex[:8]}"
    cid = sysinfo.docker(
        "run", "-d", "--name", name, "--label", "org.lambkin.bench=true",
        "--memory", f"{memory_mb}m", "--entrypoint", "python3", image, "-c", IDLE_SCRIPT,
    ).strip()  # fmt: skip
    try:
        time.sleep(0.5)
        memory = sysinfo.container_memory(sysinfo.Container.inspect(cid)[0])
    finally:
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)
    return {
        "what": f"docker run --entrypoint python3 {image} -c '{IDLE_SCRIPT}'",
        **{f"{k}_mib": _mib(v) for k, v in memory.items()},
    }


def interpreter_on_host() -> dict[str, Any]:
    """The same bare interpreter as a host process (the process driver's comparison)."""
    process = subprocess.Popen([sys.executable, "-c", IDLE_SCRIPT])
    try:
        time.sleep(0.3)
        return {"what": f"{sys.executable} -c '{IDLE_SCRIPT}'",
                "rss_mib": _mib(sysinfo.rss_bytes(process.pid)),
                "pss_mib": _mib(sysinfo.pss_bytes(process.pid))}  # fmt: skip
    finally:
        process.kill()
        process.wait()


def instance_memory(lk: Lambkin, functions: list[str]) -> list[dict[str, int]]:
    """Memory of each instance of these functions: the container's cgroup, or for the process
    driver the agent's process tree (RSS and PSS; PSS splits shared pages fairly)."""
    if lk.driver == "docker":
        return [sysinfo.container_memory(c) for f in functions for c in lk.containers(f)]
    tree = sysinfo.children_map()
    out = []
    for agent in lk.agents():
        pids = [agent, *sysinfo.descendants(agent, tree)]
        try:
            out.append(
                {
                    "rss": sum(sysinfo.rss_bytes(p) for p in pids),
                    "pss": sum(sysinfo.pss_bytes(p) for p in pids),
                }
            )
        except OSError:
            continue
    return out


def _anonymous_kib(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Anonymous:"):
                return int(line.split()[1])
    return 0


def processes_of_one_instance(lk: Lambkin, function: str) -> dict[str, float]:
    """Private (anonymous) memory of each process of one instance: where its memory goes; and
    the agent's whole resident set (`agent_rss_mib`: VmRSS, its shared binary pages included)."""
    if lk.driver == "docker":
        containers = lk.containers(function)
        if not containers:
            return {}
        pids = [containers[0].pid, *sysinfo.descendants(containers[0].pid)]
    else:
        agents = lk.agents()
        if not agents:
            return {}
        pids = [agents[0], *sysinfo.descendants(agents[0])]
    out: dict[str, float] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                words = f.read().split(b"\0")
            name = next(
                (
                    w.decode()
                    for w in words
                    if w.startswith(b"lambkin_") or w.endswith(b"/lambkin-agent")
                ),
                words[0].decode(),
            )
            out[f"{name}_anonymous_mib"] = round(
                out.get(f"{name}_anonymous_mib", 0) + _anonymous_kib(pid) / 1024, 2
            )
            if name.endswith("/lambkin-agent"):
                out["agent_rss_mib"] = round(sysinfo.rss_bytes(pid) / 2**20, 2)
        except OSError:
            continue
    return out


def snapshot(lk: Lambkin, functions: list[str], baseline_available: int) -> dict[str, Any]:
    """The control plane's RSS and the memory of these functions' instances, now."""
    instances = lk.live_instances()
    out: dict[str, Any] = {
        "instances": instances,
        "control_plane_rss_mib": _mib(sysinfo.rss_bytes(lk.pid)),
    }
    memories = instance_memory(lk, functions) if functions else []
    if memories:
        out["per_instance_mib"] = {
            key: {
                "mean": _mib(statistics.fmean(m[key] for m in memories)),
                "max": _mib(max(m[key] for m in memories)),
            }
            for key in memories[0]
        }
        out["measured_instances"] = len(memories)
    if instances:
        drop = baseline_available - sysinfo.mem_available_bytes()
        out["host_memory_per_instance_mib"] = _mib(drop / instances)
    return out
