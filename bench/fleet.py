"""An idle fleet: what N warm, idle instances cost the control plane (its RSS, and the CPU its
housekeeping takes while nothing is invoked), on the process driver.

The instances run a custom runtime in C (bench/idle/bootstrap.c, a few hundred KB each), so a
thousand of them fit in memory and the figures are the platform's, not a language runtime's. A
server of its own, started for this section and stopped after it, with a concurrency limit above
the fleet's size.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.oracles import cache_dir

from . import sysinfo, warm
from .lambkin import Lambkin

log = logging.getLogger("bench")

SOURCE = Path(__file__).parent / "idle" / "bootstrap.c"
SETTLE_S = 5.0  # after the last start: the pool's and the log reader's first sweeps are done


def bootstrap() -> bytes:
    """The idle runtime, compiled with the host's C compiler (cached by its source)."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        raise RuntimeError("no C compiler for bench/idle/bootstrap.c: apt-get install gcc")
    digest = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    target = cache_dir() / f"idle-bootstrap-{digest}"
    if not target.exists():
        partial = target.with_suffix(".partial")
        subprocess.run([compiler, "-O2", "-o", str(partial), str(SOURCE)], check=True)
        partial.rename(target)
    return target.read_bytes()


def _enough_descriptors(count: int) -> None:
    """Each instance holds a few descriptors in the server (its connection, its log file)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 8 * count + 1024))
    if wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def idle_fleet(count: int, window_s: float, server_env: dict[str, str]) -> dict[str, Any]:
    _enough_descriptors(count)
    env = {
        **server_env,
        "LAMBKIN_CONCURRENCY_LIMIT": str(count + 200),
        "LAMBKIN_MAX_CONCURRENT_STARTS": "16",
    }
    with tempfile.TemporaryDirectory(prefix="lambkin-fleet-") as data:
        lk = Lambkin("process", Path(data), env=env)
        try:
            baseline_rss = sysinfo.rss_bytes(lk.pid)
            lk.deploy("fleet", {"bootstrap": bootstrap()}, runtime="provided.al2023",
                      handler="fleet", executable=("bootstrap",))  # fmt: skip
            began = time.monotonic()
            live = await warm.grow(
                lk.target("fleet"), count, lambda: lk.live_instances("fleet"), hold_s=3.0, tries=6
            )
            grown_s = time.monotonic() - began
            log.info("idle fleet: %d instances in %.1f s", live, grown_s)
            await asyncio.sleep(SETTLE_S)
            helpers = sysinfo.helpers_of(lk.pid)  # the log writer: part of the control plane

            def cpu_now() -> float:
                return sysinfo.cpu_seconds(lk.pid) + sysinfo.tree_cpu_seconds(helpers)

            cpu_before, wall_before = cpu_now(), time.monotonic()
            await asyncio.sleep(window_s)
            cpu = cpu_now() - cpu_before
            wall = time.monotonic() - wall_before
            writer_rss = sum(sysinfo.rss_bytes(p) for p in helpers)
            rss = sysinfo.rss_bytes(lk.pid) + writer_rss
            return {
                "instances": live,
                "wanted": count,
                "grow_s": round(grown_s, 1),
                "window_s": round(wall, 1),
                "control_plane_rss_mib": round(rss / 2**20, 1),  # with its log writer
                "of_which_log_writer_rss_mib": round(writer_rss / 2**20, 1),
                "control_plane_rss_before_mib": round(baseline_rss / 2**20, 1),
                "control_plane_kib_per_instance": round(
                    (rss - baseline_rss) / 1024 / max(1, live), 1
                ),
                "housekeeping_cpu_percent_of_one_core": round(100 * cpu / wall, 2),
                "method": "process driver, C custom runtime; the server's and its log writer's "
                "CPU over an idle window after the fleet settled, and their RSS",
            }
        finally:
            lk.server.stop()
