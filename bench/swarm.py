"""The swarm driver beside the docker driver: cold start (through the engine, and from a vacant
instance) and warm latency of the same Python hello world, on the 3-node test swarm
(scripts/swarm-cluster.sh) and on this host's engine.

    python -m bench.swarm [--cold N] [--rounds N] [--seconds S]     (run by `make bench`)

Writes bench/results/swarm.json and swarm.md. Brings the cluster up if it is not (and takes it
down again after); the first cold start on a fresh cluster also publishes the image and pulls
it on a node, so one warm-up cold start is not counted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support.swarm_cluster import bring_up, tear_down

from . import cold, warm
from .lambkin import Lambkin

log = logging.getLogger("bench.swarm")
REPO = Path(__file__).resolve().parent.parent
DRIVERS = ("docker", "swarm")


# As the suite does (bench/suite.py): the engine's cold starts with no vacancies kept, and those
# served by a vacancy from a server of their own that keeps them.
NO_VACANCIES = {"LAMBKIN_VACANCY_MEMORY_MB": "0"}
VACANCIES = {"LAMBKIN_VACANCY_MEMORY_MB": "1024"}


def measure(cold_samples: int, rounds: int, seconds: float) -> dict[str, Any]:
    started = time.monotonic()
    cluster = bring_up()
    log.info("swarm cluster up in %.1f s", cluster.up_seconds)
    result: dict[str, Any] = {"cluster_up_s": round(cluster.up_seconds, 1), "cold_start": {}}
    servers: dict[str, Lambkin] = {}

    def start(driver: str, data: Path, env: dict[str, str]) -> Lambkin:
        on_cluster = cluster.env if driver == "swarm" else {}
        servers[driver] = Lambkin(driver, data / driver, {**on_cluster, **env})
        return servers[driver]

    def stop_all() -> None:
        while servers:
            servers.popitem()[1].stop()

    try:
        with tempfile.TemporaryDirectory(prefix="lambkin-bench-swarm-") as workdir:
            for driver in DRIVERS:
                start(driver, Path(workdir), NO_VACANCIES)
            for driver, lk in servers.items():
                log.info("%s: %d cold starts", driver, cold_samples)
                result["cold_start"][driver] = cold.cold_starts(lk, cold_samples)
            targets = {}
            for driver, lk in servers.items():
                name = f"bench-warm-{driver}"
                lk.deploy(name, {"app.py": cold.HELLO})
                targets[driver] = lk.target(name)
            log.info("warm latency: %d rounds of %.0f s each, interleaved", rounds, seconds)
            result["warm"] = asyncio.run(warm.latency(targets, b"{}", rounds, seconds, 2.0))
            stop_all()
            for driver in DRIVERS:
                lk = start(driver, Path(workdir) / "vacancies", VACANCIES)
                log.info("%s: %d cold starts from a vacancy", driver, cold_samples)
                result["cold_start"][f"{driver}_vacancy"] = cold.vacancy_cold_starts(
                    lk, cold_samples
                )
                stop_all()
    finally:
        stop_all()
        tear_down(cluster)
    result["duration_s"] = round(time.monotonic() - started, 1)
    return result


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"Cluster up in {result['cluster_up_s']} s; whole run {result['duration_s']} s.",
        "",
        "| driver | cold start p50 (ms) | cold start p90 (ms) | from a vacancy p50 (ms) "
        "| from a vacancy p90 (ms) | warm p50 (ms) | warm p99 (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for driver in DRIVERS:
        total = result["cold_start"][driver]["phases"]["total_ms"]
        vacant = result["cold_start"][f"{driver}_vacancy"]["phases"]["total_ms"]
        hot = result["warm"][driver]
        lines.append(
            f"| {driver} | {total['p50_ms']:.0f} | {total['p90_ms']:.0f} "
            f"| {vacant['p50_ms']:.0f} | {vacant['p90_ms']:.0f} "
            f"| {hot['p50_ms']:.2f} | {hot['p99_ms']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.swarm", description=__doc__)
    parser.add_argument("--cold", type=int, default=10, help="cold starts per driver")
    parser.add_argument("--rounds", type=int, default=3, help="warm rounds per driver")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per warm round")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench %(message)s")
    result = measure(args.cold, args.rounds, args.seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "swarm.json").write_text(json.dumps(result, indent=1) + "\n")
    table = markdown(result)
    (args.out / "swarm.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
