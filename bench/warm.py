"""Warm measurements: invoke latency, throughput per concurrency (CPU per invocation), payloads."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from .loadgen import LoadResult, Target, closed_loop, open_loop
from .stats import summarize_ms

CpuProbe = Callable[[], dict[str, float]]


def payload(size: int) -> bytes:
    """A JSON object of exactly `size` bytes, `{"data": "xxx..."}`, echoed back unchanged."""
    overhead = len(b'{"data": ""}')
    if size < overhead:
        raise ValueError(f"payload must be at least {overhead} bytes")
    return json.dumps({"data": "x" * (size - overhead)}).encode()


def _run_facts(result: LoadResult) -> dict[str, Any]:
    facts: dict[str, Any] = {"errors": result.failed}
    if result.failed:
        facts["error_kinds"] = {
            **{str(k): v for k, v in result.statuses.items() if not 200 <= k < 300},
            **result.errors,
        }
    return facts


async def latency(
    targets: dict[str, Target], body: bytes, rounds: int, seconds: float, warmup_s: float
) -> dict[str, Any]:
    """One client, closed loop, keep-alive; the targets take turns, round after round.

    Interleaving means slow drift on the machine (other work, thermal, page cache) lands on all
    targets alike instead of on whichever happened to run last.
    """
    for target in targets.values():
        await closed_loop(target, body, 1, duration_s=warmup_s)
    per_round: dict[str, list[list[float]]] = {name: [] for name in targets}
    results: dict[str, LoadResult] = {name: LoadResult() for name in targets}
    for _ in range(rounds):
        for name, target in targets.items():
            run = await closed_loop(target, body, 1, duration_s=seconds)
            per_round[name].append(run.latencies_ms)
            results[name].statuses.update(run.statuses)
            results[name].errors.update(run.errors)
    return {
        name: {
            **summarize_ms([x for r in per_round[name] for x in r], per_round[name]),
            **_run_facts(results[name]),
        }
        for name in targets
    }


async def open_loop_latency(
    targets: dict[str, Target], body: bytes, rate: float, seconds: float
) -> dict[str, Any]:
    """Open loop: `rate` requests/s over one connection; latency from the intended send time."""
    out = {}
    for name, target in targets.items():
        run = await open_loop(target, body, rate, seconds, connections=1)
        out[name] = {**summarize_ms(run.latencies_ms), **_run_facts(run)}
    return out


async def throughput(
    target: Target,
    body: bytes,
    concurrency: int,
    seconds: float,
    warmup_s: float,
    cpu: CpuProbe,
    on_sample: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Invocations per second with `concurrency` closed-loop clients, and CPU seconds per call.

    `cpu()` returns cumulative CPU seconds per party (control plane, instances, ...); the
    difference over the run divided by the invocations completed is each party's cost.
    `on_sample` is called every 100 ms during the run (e.g. to sample the server's RSS).
    """
    await closed_loop(target, body, concurrency, duration_s=warmup_s)
    stop = asyncio.Event()

    async def sampler() -> None:
        while not stop.is_set() and on_sample is not None:
            on_sample()
            await asyncio.sleep(0.1)

    sampling = asyncio.create_task(sampler())
    before, loadgen_before = cpu(), time.process_time()
    run = await closed_loop(target, body, concurrency, duration_s=seconds)
    after, loadgen_after = cpu(), time.process_time()
    stop.set()
    await sampling
    n = max(run.completed, 1)
    per_second = run.per_second or [run.completed]
    out: dict[str, Any] = {
        "concurrency": concurrency,
        "invocations": run.completed,
        "seconds": round(run.elapsed_s, 3),
        "per_s": round(run.throughput, 1),
        "per_s_each_second": per_second,
        "per_s_spread": [min(per_second), max(per_second)],
        "latency": summarize_ms(run.latencies_ms),
        **_run_facts(run),
        "cpu_ms_per_invocation": {
            party: round((after[party] - before[party]) / n * 1000, 4)
            for party in after
            if party in before
        },
    }
    out["cpu_ms_per_invocation"]["loadgen"] = round((loadgen_after - loadgen_before) / n * 1000, 4)
    return out


async def payload_scaling(
    targets: dict[str, Target], sizes: dict[str, int], seconds: float, min_requests: int = 5
) -> dict[str, Any]:
    """Latency at each payload size (echoed back, so the same size travels both ways)."""
    out: dict[str, Any] = {}
    for label, size in sizes.items():
        body = payload(size)
        out[label] = {"bytes": size}
        for name, target in targets.items():
            await closed_loop(target, body, 1, requests_per_worker=1)  # warm this size's path
            run = await closed_loop(target, body, 1, duration_s=seconds)
            if run.completed < min_requests:
                extra = await closed_loop(
                    target, body, 1, requests_per_worker=min_requests - run.completed
                )
                run.latencies_ms += extra.latencies_ms
                run.statuses.update(extra.statuses)
            summary = {**summarize_ms(run.latencies_ms), **_run_facts(run)}
            summary["response_bytes"] = sorted(run.response_bytes)
            out[label][name] = summary
    return out


async def grow(
    target: Target, wanted: int, count_live: Callable[[], int], hold_s: float = 1.0, tries: int = 4
) -> int:
    """Make at least `wanted` instances exist: send concurrent invocations that each hold their
    instance for `hold_s` (the function sleeps when the event says so), so none can be reused."""
    body = json.dumps({"sleep": hold_s}).encode()
    live = count_live()
    for _ in range(tries):
        if live >= wanted:
            break
        await closed_loop(target, body, wanted, requests_per_worker=1, timeout_s=120)
        live = count_live()
    return live
