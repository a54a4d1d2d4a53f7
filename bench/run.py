"""Run the benchmark: Lambkin and the reference (AWS RIE + awslambdaric), same run, same machine.

    python -m bench.run [--profile full|quick|smoke] [--out bench/results] [--no-docker]

`make bench` runs the full profile (under 10 minutes), `make bench-quick` the quick one (under 2).
Writes OUT/latest.json (every figure), OUT/latest.png (the chart) and OUT/latest.md (the table
for the README). Exits 1 when the report is incomplete (a section failed).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Coroutine
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tests.support.oracles import awslambdaric_dir, rie_binary

from . import report, sysinfo
from .profiles import PROFILES
from .suite import IMAGE, Bench

log = logging.getLogger("bench")
REPO = Path(__file__).resolve().parent.parent


def _images_present() -> bool:
    done = subprocess.run(
        ["docker", "image", "inspect", IMAGE, "lambkin/provided.al2023"],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def _remove_our_containers() -> None:
    """The reference's containers, should a section have died before closing them."""
    if shutil.which("docker"):
        listing = subprocess.run(
            ["docker", "ps", "-aq", "--filter", "label=org.lambkin.bench=true"],
            capture_output=True,
            text=True,
            check=False,
        )
        if listing.stdout.split():
            subprocess.run(
                ["docker", "rm", "-f", *listing.stdout.split()], capture_output=True, check=False
            )


def _image_status(docker: bool) -> dict[str, str]:
    """Whether each runtime image matches the source (`make bench` rebuilds stale ones first)."""
    if not docker:
        return {}
    from orchestrator import images

    return {runtime: str(images.image_status(runtime)) for runtime in images.RUNTIME_IMAGES}


def _versions(docker: bool) -> dict[str, Any]:
    ric = awslambdaric_dir()
    dist = next(ric.glob("awslambdaric-*.dist-info"), None)
    return {
        "lambkin": sysinfo.git_revision(REPO),
        "runtime_images": _image_status(docker),
        "awslambdaric": dist.name[len("awslambdaric-") : -len(".dist-info")] if dist else None,
        "rie_sha256": hashlib.sha256(rie_binary().read_bytes()).hexdigest()[:16],
    }


METHOD = {
    "loadgen": "bench/loadgen.py: asyncio + uvloop, httptools parser, keep-alive, "
    "pre-built requests; closed loop (latency per request) or open loop "
    "(latency from the intended send time)",
    "wrk": "the same warm latency (one connection) and throughput with wrk 4 as the generator; "
    "see wrk.method",
    "cpu": "utime+stime from /proc of the server process; instances: container cpuacct (docker) "
    "or the agent process trees (process); docker_engine: dockerd, containerd and shims "
    "(machine-wide); loadgen: the bench process",
    "memory": "docker: container cgroup (usage minus inactive file cache, as `docker stats`); "
    "process: RSS/PSS of the agent's process tree; control plane: VmRSS",
}


async def _bench(
    profile_name: str, workdir: Path, docker: bool, server_env: dict[str, str]
) -> dict[str, Any]:
    bench = Bench(PROFILES[profile_name], workdir, server_env)
    machine = sysinfo.machine()
    versions = _versions(docker)
    stale = [
        runtime for runtime, status in versions["runtime_images"].items() if status != "current"
    ]
    if stale:
        log.warning(
            "runtime images not current (%s): the docker figures measure old code; "
            "run `make images`",
            ", ".join(stale),
        )
    result = await bench.run(docker)
    machine["loadavg_at_end"] = sysinfo.loadavg()
    return {**result, "machine": machine, "versions": versions, "method": METHOD}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    parser.add_argument(
        "--runs", type=int, default=1,
        help="whole runs, one after another; the report is the last one's, with each target's "
        "spread over all of them (their reports are kept as run-N.json)",
    )  # fmt: skip
    parser.add_argument(
        "--no-docker", action="store_true", help="only the process driver and RIE as a host process"
    )
    parser.add_argument(
        "--server-env", action="append", default=[], metavar="LAMBKIN_X=value",
        help="a setting for the servers under test, e.g. LAMBKIN_STORE_LOGS=false "
        "(recorded in the report; the default, and the README's figures, use none)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s bench %(message)s", datefmt="%H:%M:%S"
    )
    profile = PROFILES[args.profile]
    docker = (
        profile.docker is not None
        and not args.no_docker
        and sysinfo.docker_available()
        and _images_present()
    )
    if profile.docker is not None and not args.no_docker and not docker:
        log.warning(
            "no Docker engine or no runtime images (`make images`): "
            "measuring the process driver only"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    server_env = dict(item.split("=", 1) for item in args.server_env)
    results: list[dict[str, Any]] = []
    for run in range(1, args.runs + 1):
        if args.runs > 1:
            log.info("run %d of %d", run, args.runs)
        workdir = Path(tempfile.mkdtemp(prefix="lambkin-bench-"))
        try:
            results.append(_run(_bench(args.profile, workdir, docker, server_env)))
        finally:
            _remove_our_containers()
            shutil.rmtree(workdir, ignore_errors=True)
        if args.runs > 1:
            (args.out / f"run-{run}.json").write_text(
                json.dumps(results[-1], indent=1, default=str) + "\n"
            )
    result = results[-1]
    result["spread"] = report.spread(results)
    result["profile_settings"] = asdict(profile)
    (args.out / "latest.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    table = report.markdown(result)
    (args.out / "latest.md").write_text(table)
    if not report.render_chart(result, args.out / "latest.png"):
        log.warning("matplotlib is not installed, so no chart: pip install -e '.[bench]'")
    print(table)
    problems = report.validate(result)
    for problem in problems:
        log.error("report: %s", problem)
    log.info("wrote %s in %.0f s", args.out / "latest.json", result["duration_s"])
    return 1 if problems else 0


def _run(job: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(job)
    return uvloop.run(job)


if __name__ == "__main__":
    sys.exit(main())
