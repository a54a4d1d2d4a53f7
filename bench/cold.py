"""Cold starts (with their phases), the `docker run` floor, and scale-out from zero."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
import uuid
from typing import Any

from . import sysinfo
from .lambkin import Lambkin
from .loadgen import Target, closed_loop
from .stats import summarize_ms

HELLO = "def handler(event, context):\n    return {'hello': 'world'}\n"


def _phase_summaries(samples: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    out = {}
    for key in keys:
        values = [s[key] for s in samples if s.get(key) is not None]
        if values:
            out[key] = summarize_ms(values)
    return out


def _container_events(function: str, since: float, until: float) -> dict[str, float]:
    """Wall-clock time (unix s) of each container event of the function's instance in the window."""
    events = sysinfo.docker_events(since, until, f"label=org.lambkin.function={function}")
    times: dict[str, float] = {}
    for event in events:
        action = str(event.get("Action") or event.get("status"))
        times.setdefault(action, int(event["timeNano"]) / 1e9)
    return times


# The same hello world as an image function: Lambkin's Python image with the code baked in and
# our runtime client as its ENTRYPOINT, so the two cold starts differ only by the package type.
IMAGE_FUNCTION_FILES = {
    "Dockerfile": """FROM lambkin/python3.11
COPY app.py /var/task/app.py
WORKDIR /var/task
ENTRYPOINT ["python3", "-m", "lambkin_runtime"]
CMD ["app.handler"]
""",
    "app.py": HELLO,
}


def cold_starts(
    lk: Lambkin, samples: int, warmup: int = 1, image: str | None = None
) -> dict[str, Any]:
    """Invoke a freshly created Python hello world (no instance exists) and split the time:
    a zip function, or with `image`, that image as a PackageType Image function.

    Outside the server we can see: the client's total; for docker, the container's `create` and
    `start` events (the engine's own timestamps); the REPORT line's Init Duration and Duration.
    What is left after the container started is the agent's boot, readiness and the hand-offs.
    If the server sends a `Server-Timing` header, its phases are reported as `platform_*`.
    """
    results = []
    for i in range(warmup + samples):
        name = f"bench-cold-{lk.driver}-{i}-{int(time.time() * 1000) % 100000}"
        if image is None:
            lk.deploy(name, {"app.py": HELLO})
        else:
            lk.deploy_image(name, image)
        report = lk.invoke_with_report(name, b"{}")
        sample: dict[str, Any] = {
            "total_ms": report["total_ms"],
            "runtime_init_ms": report["init_duration_ms"],
            "first_invoke_ms": report["duration_ms"],
        }
        if lk.driver == "docker":
            events = _container_events(name, report["start_wall"] - 0.5, time.time())
            if "create" in events and "start" in events:
                sample["placement_and_create_ms"] = (events["create"] - report["start_wall"]) * 1000
                sample["container_start_ms"] = (events["start"] - events["create"]) * 1000
                after_start = (report["end_wall"] - events["start"]) * 1000
                sample["agent_boot_and_handoffs_ms"] = (
                    after_start - (report["init_duration_ms"] or 0) - (report["duration_ms"] or 0)
                )
        else:
            sample["spawn_agent_boot_and_handoffs_ms"] = (
                report["total_ms"]
                - (report["init_duration_ms"] or 0)
                - (report["duration_ms"] or 0)
            )
        for phase, ms in report["server_timing"].items():
            sample[f"platform_{phase}_ms"] = ms
        lk.delete(name)
        if i >= warmup:
            results.append(sample)
    keys = sorted({k for s in results for k in s})
    return {"samples": len(results), "phases": _phase_summaries(results, keys), "raw": results}


def _ready_vacancies(lk: Lambkin) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{lk.server.endpoint}/lambkin/vacancies", timeout=5) as r:
        shapes = json.loads(r.read())["Shapes"]
    return [v for shape in shapes if shape["MemorySize"] == 128 for v in shape["Ready"]]


def vacancy_cold_starts(lk: Lambkin, samples: int, warmup: int = 1) -> dict[str, Any]:
    """Cold starts served by a vacant instance (orchestrator/vacancies.py): each a freshly
    created Python hello world, invoked once a vacancy of its shape is ready, then deleted.

    Also: how long a vacancy takes to be ready again after one is taken (`refill_ms`, from the
    end of the cold start), and a ready vacancy's memory, as the engine accounts it (docker) or
    as its agent's resident set (process).
    """
    seed = f"bench-vacancy-seed-{int(time.time() * 1000) % 100000}"
    lk.deploy(seed, {"app.py": HELLO})
    lk.invoke_with_report(seed, b"{}")  # a cold start: the demand that keeps a vacancy
    results: list[dict[str, Any]] = []
    refills: list[float] = []
    memory: list[dict[str, int]] = []
    missed = 0
    last_end = time.perf_counter()
    for i in range(warmup + samples):
        deadline = time.monotonic() + 30
        while not (ready := _ready_vacancies(lk)):
            if time.monotonic() > deadline:
                raise RuntimeError("no vacancy became ready within 30 s")
            time.sleep(0.01)
        refill_ms = (time.perf_counter() - last_end) * 1000
        if lk.driver == "docker":
            label = f"org.lambkin.instance={ready[-1]['InstanceId']}"
            for container in sysinfo.containers_with_label(label):
                memory.append(sysinfo.container_memory(container))
        time.sleep(0.2)  # the vacancy's own start-up work (engine, agent) is over
        name = f"bench-vacancy-{lk.driver}-{i}-{int(time.time() * 1000) % 100000}"
        lk.deploy(name, {"app.py": HELLO})
        report = lk.invoke_with_report(name, b"{}")
        last_end = time.perf_counter()
        if "specialise" not in report["server_timing"]:
            missed += 1  # started through the engine after all: not a sample of this
        elif i >= warmup:
            sample: dict[str, Any] = {
                "total_ms": report["total_ms"],
                "runtime_init_ms": report["init_duration_ms"],
                "first_invoke_ms": report["duration_ms"],
            }
            for phase, ms in report["server_timing"].items():
                sample[f"platform_{phase}_ms"] = ms
            results.append(sample)
            if i > warmup:
                refills.append(refill_ms)
        lk.delete(name)
    lk.delete(seed)
    keys = sorted({k for s in results for k in s})
    out: dict[str, Any] = {
        "samples": len(results),
        "not_from_a_vacancy": missed,
        "phases": _phase_summaries(results, keys),
        "refill_ms": summarize_ms(refills) if refills else None,
        "raw": results,
    }
    if memory:
        out["vacancy_memory_mib"] = {
            key: round(sorted(m[key] for m in memory)[len(memory) // 2] / 2**20, 2)
            for key in ("usage", "working_set", "rss")
        }
    return out


def java_warm_reuse(lk: Lambkin, warm_samples: int) -> dict[str, Any]:
    """Java's slow start is where warm reuse pays: a java17 function's first invocation (JVM
    start, class loading, JIT) against its warm ones. Uses the conformance suite's fixture."""
    return first_vs_warm(lk, "java17", warm_samples)


def first_vs_warm(lk: Lambkin, variant_id: str, warm_samples: int) -> dict[str, Any]:
    """A runtime's first invocation (its start, loading, JIT) against its warm ones, with the
    conformance suite's app for that runtime (java17: the JVM; mono6.12: Mono, docker only)."""
    import tempfile
    from pathlib import Path

    from tests.conformance.variants import VARIANTS, build, unbuildable

    variant = VARIANTS[variant_id]
    reason = unbuildable(variant)
    if reason:
        return {"skipped": reason}
    with tempfile.TemporaryDirectory() as tmp:
        built = build(variant, Path(tmp))
        files = {
            str(p.relative_to(built.app)): p.read_bytes()
            for p in built.app.rglob("*")
            if p.is_file()
        }
    name = f"bench-{variant_id.replace('.', '')}-{lk.driver}-{uuid.uuid4().hex[:6]}"
    lk.deploy(name, files, runtime=variant.runtime, handler=variant.handler, memory_mb=512)
    try:
        payload = json.dumps({"op": "count"}).encode()
        first = lk.invoke_with_report(name, payload)
        warm = [lk.invoke_with_report(name, payload)["total_ms"] for _ in range(warm_samples)]
    finally:
        lk.delete(name)
    summary = summarize_ms(warm)
    return {
        "first_ms": first["total_ms"],
        "first_init_ms": first["init_duration_ms"],
        "warm": summary,
        "speedup_first_over_warm_p50": round(first["total_ms"] / summary["p50_ms"], 1),
    }


def docker_run_floor(image: str, samples: int) -> dict[str, Any]:
    """`docker run --rm --entrypoint python3 IMAGE -c pass`: the least a container can cost.

    The image has no entrypoint (the driver mounts the agent and makes it one), so
    `--entrypoint python3` only makes the command explicit; it is the command the issue names.
    Events give the part between `create` and `start`.
    """
    totals, create_to_start, start_to_die = [], [], []
    for i in range(samples + 1):  # the first is a warm-up (page cache, first-run costs)
        label = f"org.lambkin.bench.floor={uuid.uuid4().hex}"
        command = [
            "docker",
            "run",
            "--rm",
            "--label",
            label,
            "--entrypoint",
            "python3",
            image,
            "-c",
            "pass",
        ]
        since = time.time()
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        if i == 0:
            continue
        totals.append((time.perf_counter() - start) * 1000)
        events = sysinfo.docker_events(since - 0.2, time.time(), f"label={label}")
        times: dict[str, float] = {}
        for event in events:
            times.setdefault(
                str(event.get("Action") or event.get("status")), int(event["timeNano"]) / 1e9
            )
        if {"create", "start", "die"} <= times.keys():
            create_to_start.append((times["start"] - times["create"]) * 1000)
            start_to_die.append((times["die"] - times["start"]) * 1000)
    return {
        "command": f"docker run --rm --entrypoint python3 {image} -c pass",
        "samples": samples,
        "total_ms": summarize_ms(totals),
        "create_to_start_ms": summarize_ms(create_to_start),
        "python_pass_ms": summarize_ms(start_to_die),
    }


async def scale_out(
    lk: Lambkin, files: dict[str, str | bytes], n: int, hold_s: float, reps: int, keep: str
) -> dict[str, Any]:
    """From zero instances, `n` concurrent invocations of a function that takes `hold_s`: the time
    until the last one returns. Connections to the API are opened before the clock starts.

    The last repetition's function is named `keep` and left deployed with its idle instances
    (the footprint measurement counts them); earlier ones are deleted."""
    runs: list[dict[str, Any]] = []
    body = json.dumps({"sleep": hold_s}).encode()
    for rep in range(reps):
        last = rep == reps - 1
        name = keep if last else f"bench-scale-{lk.driver}-{rep}-{int(time.time() * 1000) % 100000}"
        lk.deploy(name, files)
        engine = sysinfo.engine_cpu() if lk.driver == "docker" else {}
        control_plane = sysinfo.cpu_seconds(lk.pid)
        result = await closed_loop(lk.target(name), body, n, requests_per_worker=1, timeout_s=120)
        cp_s, engine_s = (
            sysinfo.cpu_seconds(lk.pid) - control_plane,
            sysinfo.engine_cpu_since(engine),
        )
        started = lk.live_instances(name)
        run: dict[str, Any] = {
            "all_returned_s": round(result.elapsed_s, 3),
            "instances": started,
            "errors": result.failed,
            "latency": summarize_ms(result.latencies_ms),
            "control_plane_cpu_ms_per_instance": round(cp_s * 1000 / max(started, 1), 2),
        }
        if engine:
            run["docker_engine_cpu_ms_per_instance"] = round(engine_s * 1000 / max(started, 1), 2)
        runs.append(run)
        if not last:
            lk.delete(name, wait_s=120)
    totals = [r["all_returned_s"] * 1000 for r in runs]
    return {
        "concurrent": n,
        "function_ms": hold_s * 1000,
        "reps": reps,
        "all_returned_ms": summarize_ms(totals),
        "runs": runs,
    }


async def serial_reference(target: Target, n: int, hold_s: float) -> dict[str, Any]:
    """RIE cannot scale out: the same `n` invocations, one after another, is all it can do."""
    body = json.dumps({"sleep": hold_s}).encode()
    result = await closed_loop(target, body, 1, requests_per_worker=n)
    return {
        "concurrent": 1,
        "invocations": n,
        "function_ms": hold_s * 1000,
        "all_returned_ms": round(result.elapsed_s * 1000, 1),
        "errors": result.failed,
        "note": "RIE serves one invocation at a time; these ran one after another",
    }
