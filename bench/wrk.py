"""wrk as a second load generator: the warm-latency and throughput figures again, measured by
wrk 4 (C, epoll, HTTP/1.1 keep-alive) instead of bench/loadgen.py, so that a figure that moves
with the generator is seen to.

wrk POSTs the same 100 B body to the same Invoke path through `bench/wrk_invoke.lua`, which
counts every response that is not a 200 and prints its figures as one `WRK_JSON {...}` line
(wrk's `--latency` percentiles, requests, duration, socket errors). wrk is a closed loop like
`loadgen.closed_loop`: each connection sends its next request when the previous one returned.
Its CPU (user + system, from `wait4` on its process) shares the machine's CPUs with what it
measures and is reported per invocation, as the built-in generator's is.

wrk comes from Debian's `wrk` package (`scripts/ensure-wrk.sh`, run by `make bench` and
`make bench-quick`); `$LAMBKIN_WRK` names another binary.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .loadgen import Target, closed_loop
from .stats import ratio, ratios

SCRIPT = Path(__file__).with_name("wrk_invoke.lua")
MARKER = "WRK_JSON "
INSTALL_HINT = "run `bash scripts/ensure-wrk.sh` (as root; `make bench` does) or install wrk 4.x"
METHOD = (
    "wrk 4 (C, epoll), HTTP/1.1 keep-alive, bench/wrk_invoke.lua: POST of the same 100 B body, "
    "every non-200 counted; closed loop, -c N connections on min(N, CPUs) threads; latency "
    "percentiles from wrk's --latency histogram (microsecond resolution, every response); "
    "loadgen CPU: wrk's own user+system time (wait4)"
)
CpuProbe = Callable[[], dict[str, float]]


def wanted() -> str:
    """The wrk asked for: `$LAMBKIN_WRK`, else `wrk` (looked up on PATH)."""
    return os.environ.get("LAMBKIN_WRK", "wrk")


def binary() -> str | None:
    """The wrk to run, or None when there is none."""
    return shutil.which(wanted())


def version(wrk: str) -> str:
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    return (out.stdout + out.stderr).splitlines()[0].strip() if out.stdout + out.stderr else "?"


@dataclass(frozen=True)
class WrkRun:
    """What one wrk run printed (its JSON line) and the CPU it used."""

    figures: dict[str, Any]
    cpu_s: float

    @property
    def ok(self) -> int:
        return int(self.figures["requests"]) - int(self.figures["not_200"])

    @property
    def seconds(self) -> float:
        return float(self.figures["duration_us"]) / 1e6

    @property
    def errors(self) -> dict[str, int]:
        kinds = {str(k): int(v) for k, v in self.figures["not_200_statuses"].items()}
        kinds |= {f"socket {k}": int(v) for k, v in self.figures["socket_errors"].items() if v}
        return kinds

    def latency_ms(self) -> dict[str, Any]:
        us = self.figures["latency_us"]
        return {
            "count": int(self.figures["requests"]),
            **{f"{key}_ms": round(value / 1000, 4) for key, value in us.items()},
        }


def parse(output: str) -> dict[str, Any]:
    """The figures of wrk_invoke.lua's `done()`: the JSON after the marker on its line."""
    for line in output.splitlines():
        if line.startswith(MARKER):
            figures: dict[str, Any] = json.loads(line[len(MARKER) :])
            return figures
    raise RuntimeError(f"wrk printed no {MARKER.strip()} line; its output ends: {output[-600:]}")


def command(
    wrk: str, target: Target, body_file: Path, connections: int, seconds: int, threads: int
) -> list[str]:
    url = f"http://{target.host}:{target.port}{target.path}"
    return [
        wrk, "--latency", "--timeout", "30s",
        "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
        "-s", str(SCRIPT), url, "--", str(body_file),
    ]  # fmt: skip


def run(wrk: str, target: Target, body_file: Path, connections: int, seconds: int) -> WrkRun:
    """One wrk run (blocking); its CPU is read from `wait4`, which reports that child alone."""
    threads = min(connections, os.cpu_count() or 1)
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(
            command(wrk, target, body_file, connections, seconds, threads),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}: {text[-600:]}")
    return WrkRun(parse(text), usage.ru_utime + usage.ru_stime)


async def measure(
    wrk: str,
    target: Target,
    body: bytes,
    connections: int,
    seconds: int,
    warmup_s: float,
    cpu: CpuProbe,
) -> dict[str, Any]:
    """Invocations/s, latency and CPU per invocation of each party, with wrk driving the load."""
    await closed_loop(target, body, connections, duration_s=warmup_s)
    with tempfile.NamedTemporaryFile(prefix="lambkin-wrk-body-") as body_file:
        body_file.write(body)
        body_file.flush()
        before = cpu()
        done = await asyncio.to_thread(run, wrk, target, Path(body_file.name), connections, seconds)
        after = cpu()
    n = max(done.ok, 1)
    out: dict[str, Any] = {
        "concurrency": connections,
        "invocations": done.ok,
        "requests": done.figures["requests"],
        "seconds": round(done.seconds, 3),
        "per_s": round(done.ok / done.seconds, 1) if done.seconds else 0.0,
        "latency": done.latency_ms(),
        "errors": sum(done.errors.values()),
        "cpu_ms_per_invocation": {
            party: round((after[party] - before[party]) / n * 1000, 4)
            for party in after
            if party in before
        },
    }
    if out["errors"]:
        out["error_kinds"] = done.errors
    out["cpu_ms_per_invocation"]["loadgen"] = round(done.cpu_s / n * 1000, 4)
    return out


async def compare(
    wrk: str,
    lambkin: tuple[str, Target, CpuProbe],
    reference: tuple[str, Target, CpuProbe],
    body: bytes,
    concurrencies: tuple[int, ...],
    seconds: int,
    warmup_s: float,
) -> dict[str, Any]:
    """Lambkin at each concurrency and the reference at 1 only (RIE serves one at a time): the
    runs at 1 give the warm latency. Returns `warm_latency` and `throughput`, with ratios."""
    if 1 not in concurrencies:
        raise ValueError("the warm latency is the run at concurrency 1: include 1")
    (lk_name, lk_target, lk_cpu), (ref_name, ref_target, ref_cpu) = lambkin, reference
    lk_runs = {}
    for c in concurrencies:
        lk_runs[str(c)] = await measure(wrk, lk_target, body, c, seconds, warmup_s, lk_cpu)
    ref_run = await measure(wrk, ref_target, body, 1, seconds, warmup_s, ref_cpu)
    latency = {lk_name: lk_runs["1"]["latency"], ref_name: ref_run["latency"]}
    return {
        "warm_latency": {
            **latency,
            "ratios": {f"{lk_name}/{ref_name}": ratios(latency[lk_name], latency[ref_name])},
        },
        "throughput": {
            lk_name: lk_runs,
            ref_name: {"1": ref_run},
            "ratios": {
                f"{lk_name}@{c}/{ref_name}@1": ratio(run["per_s"], ref_run["per_s"])
                for c, run in lk_runs.items()
            },
        },
    }
