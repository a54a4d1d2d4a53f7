"""The profiles: how long and how much each measurement runs, per Lambkin driver.

`full` is `make bench` (under 10 minutes), `quick` is `make bench-quick` (under 2), `smoke` is the
test suite's few-second check that the harness works end to end (process driver only).
"""

from __future__ import annotations

from dataclasses import dataclass

PAYLOAD_SIZES = {"1 KiB": 1024, "100 KiB": 100 * 1024, "1 MiB": 1024 * 1024, "6 MB": 6_000_000}


@dataclass(frozen=True)
class Plan:
    """What one Lambkin driver (with its reference) measures in a profile."""

    concurrencies: tuple[int, ...]
    footprint_steps: tuple[int, ...]
    payload_sizes: tuple[str, ...]
    open_loop: bool = True
    awslambdaric_on_lambkin: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    rounds: int  # interleaved rounds of warm latency
    latency_s: float  # per target per round
    warmup_s: float
    open_rate: float  # open-loop schedule, requests/s
    open_s: float
    throughput_s: float
    payload_s: float
    cold_samples: int
    floor_samples: int
    scale_n: int
    scale_reps: int
    process: Plan
    docker: Plan | None
    # Idle fleet (bench/fleet.py): this many idle instances on the process driver (0: not run),
    # and the window over which the control plane's housekeeping CPU is measured.
    fleet_instances: int = 0
    fleet_window_s: float = 0.0
    wrk_s: int = 3  # per wrk run (wrk counts whole seconds)
    wrk_concurrencies: tuple[int, ...] = (1, 8)  # Lambkin's; the reference at 1 only
    wrk_required: bool = True  # False: without wrk, say why in the report and go on


ALL = (1, 8, 32, 64)
STEPS = (1, 10, 100)
PROFILES = {
    "full": Profile("full", 5, 3.0, 1.0, 200, 5.0, 8.0, 3.0, 10, 10, 50, 3,
                    process=Plan(ALL, STEPS, tuple(PAYLOAD_SIZES)),
                    docker=Plan(ALL, STEPS, tuple(PAYLOAD_SIZES), awslambdaric_on_lambkin=True),
                    fleet_instances=1000, fleet_window_s=20.0),
    "quick": Profile("quick", 2, 1.0, 0.3, 200, 1.0, 1.5, 0.4, 3, 3, 50, 1,
                     process=Plan((1, 8), (1, 10), (), open_loop=False),
                     docker=Plan(ALL, STEPS, tuple(PAYLOAD_SIZES), awslambdaric_on_lambkin=True),
                     wrk_s=1),
    "smoke": Profile("smoke", 1, 0.3, 0.1, 100, 0.3, 0.3, 0.2, 1, 1, 4, 1,
                     process=Plan((1, 2), (1, 2), ("1 KiB", "100 KiB")), docker=None,
                     wrk_s=1, wrk_concurrencies=(1,), wrk_required=False),
}  # fmt: skip
