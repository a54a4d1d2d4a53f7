"""The whole run: each Lambkin driver against its reference, section by section, into one report.

Order matters and is chosen so that each figure is taken under the conditions it names:
cold starts on a quiet server; footprint at 1 and 10 instances before anything else grows the
pool; scale-out from zero; footprint at 100 (counting the scale-out's idle instances, which
saves starting and removing 50 containers); throughput last, with enough warm instances, and
the same figures again with wrk as the load generator.
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from functools import partial
from pathlib import Path
from typing import Any

from tests.support.docker_build import build_image
from tests.support.oracles import awslambdaric_dir

from . import cold, fleet, footprint, report, streaming, sysinfo, warm, wrk
from .floor import wake_up_floor
from .lambkin import Lambkin
from .loadgen import Target, closed_loop
from .profiles import PAYLOAD_SIZES, Plan, Profile
from .reference import RieContainer, RieHost, concurrency_probe
from .stats import ratio, ratios

log = logging.getLogger("bench")
IMAGE = "lambkin/python3.11"
SCALE_FUNCTION = "scale"

# The handler every target runs: an echo that can also hold its instance for a while.
ECHO = """import time

def handler(event, context):
    if isinstance(event, dict) and "sleep" in event:
        time.sleep(event["sleep"])
    return event
"""
RIC_BOOTSTRAP = '#!/bin/sh\nexec python3 -m awslambdaric "$_HANDLER"\n'


def cold_image() -> str:
    """The image function of the cold-start comparison (built once, then found by its hash)."""
    import docker

    client = docker.from_env()
    try:
        return build_image(client, "lambkin-bench/hello-image", cold.IMAGE_FUNCTION_FILES)
    finally:
        client.close()


class _Reference:
    """A group's reference, restarted if it died between sections (the death is recorded)."""

    def __init__(
        self, start: Callable[[], RieHost | RieContainer], restarts: list[dict[str, Any]]
    ) -> None:
        self._start = start
        self._restarts = restarts
        self._rie = start()

    def get(self) -> RieHost | RieContainer:
        if not self._rie.alive():
            self._restarts.append(
                {
                    "reference": f"rie_{self._rie.kind}",
                    "at": time.strftime("%H:%M:%S"),
                    "how": self._rie.death(),
                }
            )
            log.warning("the reference died (%s); restarting it", self._restarts[-1]["how"])
            self._rie.close()
            self._rie = self._start()
        return self._rie

    def close(self) -> None:
        self._rie.close()


class Bench:
    def __init__(
        self, profile: Profile, workdir: Path, server_env: dict[str, str] | None = None
    ) -> None:
        self.p = profile
        self.workdir = workdir
        # The groups' servers keep no vacant instances, so that each section measures what it
        # names (a cold start through the engine, scale-out from zero, the footprint of the
        # instances it counts); the vacancy section runs a server of its own that keeps them.
        self.server_env = {"LAMBKIN_VACANCY_MEMORY_MB": "0", **(server_env or {})}
        self.vacancy_env = {**self.server_env, "LAMBKIN_VACANCY_MEMORY_MB": "1024"}
        self.errors: list[str] = []
        self.section_s: dict[str, float] = {}
        self.r: dict[str, Any] = {
            "schema": report.SCHEMA,
            "profile": profile.name,
            "command": {"full": "make bench", "quick": "make bench-quick"}.get(
                profile.name, f"python -m bench.run --profile {profile.name}"
            ),
            "groups": [],
            "plan": {},
            "server_env": self.server_env,
            "warm_latency": {
                "payload_bytes": 100,
                "method": "closed loop, one client, keep-alive; targets interleaved round by round",
                "ratios": {},
            },
            "throughput": {
                "method": "closed loop, N clients each on its own keep-alive connection",
                "ratios": {},
                "rie_concurrency": {},
            },
            "payload_scaling": {},
            "cold_start": {},
            "scale_out": {"concurrent": profile.scale_n, "function_ms": 100},
            "footprint": {"reference": {}},
            "control_plane_cpu": {},
            "wrk": {
                "method": wrk.METHOD,
                "concurrencies": list(profile.wrk_concurrencies),
                "seconds_per_run": profile.wrk_s,
                "warm_latency": {"ratios": {}},
                "throughput": {"ratios": {}},
            },
        }
        self.task_dir = workdir / "task"
        self.task_dir.mkdir()
        (self.task_dir / "app.py").write_text(ECHO)
        for path in (workdir, self.task_dir, self.task_dir / "app.py"):
            path.chmod(0o755)  # read by the function user (uid 993) inside containers

    async def section(self, name: str, job: Callable[[], Awaitable[None]]) -> None:
        """Run one section; a failure is recorded and the rest of the run goes on."""
        started = time.monotonic()
        log.info("== %s", name)
        try:
            await job()
        except Exception as exc:  # noqa: BLE001 (recorded in the report, which then fails validation)
            self.errors.append(f"{name}: {exc!r}")
            log.error("%s failed:\n%s", name, traceback.format_exc())
        self.section_s[name] = round(time.monotonic() - started, 1)

    def _reference(self, driver: str, handler: str = "app.handler") -> RieHost | RieContainer:
        if driver == "docker":
            return RieContainer(self.task_dir, handler, IMAGE)
        return RieHost(self.task_dir, handler, self.workdir)

    # -- one Lambkin driver against its reference ------------------------------------------------

    async def group(self, driver: str, plan: Plan, serial_reference: bool) -> None:
        p, r = self.p, self.r
        lk_name, ref_name = f"lambkin_{driver}", report.GROUPS[driver]
        r["plan"][driver] = {"concurrencies": list(plan.concurrencies),
                             "footprint_steps": list(plan.footprint_steps),
                             "payload_sizes": list(plan.payload_sizes),
                             "open_loop": plan.open_loop}  # fmt: skip
        async with AsyncExitStack() as stack:
            lk = Lambkin(driver, self.workdir / f"data-{driver}", self.server_env)
            stack.callback(lk.stop)
            ref = _Reference(
                lambda: self._reference(driver), r.setdefault("reference_restarts", [])
            )
            stack.callback(ref.close)
            r["groups"].append(driver)
            lk.deploy("echo", {"app.py": ECHO})
            echo = lk.target("echo")

            def targets() -> dict[str, Target]:
                return {lk_name: echo, ref_name: ref.get().target}

            fp: dict[str, Any] = {"instances": {}}
            r["footprint"][driver] = fp
            available = sysinfo.mem_available_bytes()
            fp["idle"] = footprint.snapshot(lk, [], available)
            python_functions = ["echo"]

            async def cold_starts() -> None:
                r["cold_start"][driver] = cold.cold_starts(lk, p.cold_samples)
                if driver == "docker":
                    r["cold_start"]["docker_image_function"] = cold.cold_starts(
                        lk, p.cold_samples, image=cold_image()
                    )
                    r["cold_start"]["docker_run_floor"] = cold.docker_run_floor(
                        IMAGE, p.floor_samples
                    )

            await self.section(f"{driver}: cold start", cold_starts)

            async def vacancy_cold_starts() -> None:
                data = self.workdir / f"data-{driver}-vacancies"
                with_vacancies = Lambkin(driver, data, self.vacancy_env)
                try:
                    r["cold_start"][f"{driver}_vacancy"] = cold.vacancy_cold_starts(
                        with_vacancies, p.cold_samples
                    )
                finally:
                    with_vacancies.stop()

            await self.section(f"{driver}: cold start from a vacancy", vacancy_cold_starts)

            async def java() -> None:
                r.setdefault("java_warm_reuse", {})[driver] = cold.java_warm_reuse(
                    lk, max(5, p.cold_samples)
                )

            await self.section(f"{driver}: java17 first vs warm", java)

            if driver == "docker":  # mono6.12 exists only as an image

                async def mono() -> None:
                    r.setdefault("mono_warm_reuse", {})[driver] = cold.first_vs_warm(
                        lk, "mono6.12", max(5, p.cold_samples)
                    )

                await self.section(f"{driver}: mono6.12 first vs warm", mono)

            async def grow_and_snapshot(n: int) -> None:
                others = lk.live_instances() - lk.live_instances("echo")
                await warm.grow(echo, n - others, lambda: lk.live_instances("echo"))
                fp["instances"][str(n)] = footprint.snapshot(lk, python_functions, available)
                if n == plan.footprint_steps[0]:
                    fp["one_instance_processes"] = footprint.processes_of_one_instance(lk, "echo")
                log.info("%s: %d instances", driver, lk.live_instances())

            for n in [n for n in plan.footprint_steps if n <= 10]:
                await self.section(f"{driver}: footprint at {n}", partial(grow_and_snapshot, n))

            async def latency() -> None:
                all_targets = targets()
                if plan.awslambdaric_on_lambkin:
                    files = {
                        **_tree(awslambdaric_dir()),
                        "app.py": ECHO,
                        "bootstrap": RIC_BOOTSTRAP,
                    }
                    lk.deploy(
                        "echo-ric", files, runtime="provided.al2023", executable=("bootstrap",)
                    )
                    all_targets[f"{lk_name}_awslambdaric"] = lk.target("echo-ric")
                # The same function through its URL (payload format 2.0 event, HTTP answer).
                all_targets[f"{lk_name}_url"] = lk.url_target("echo")
                body = warm.payload(100)
                results = await warm.latency(all_targets, body, p.rounds, p.latency_s, p.warmup_s)
                r["warm_latency"].update(results)
                for name in results:
                    if name.startswith(lk_name):
                        r["warm_latency"]["ratios"][f"{name}/{ref_name}"] = ratios(
                            results[name], results[ref_name]
                        )
                r["warm_latency"]["ratios"][f"{lk_name}_url/{lk_name}"] = ratios(
                    results[f"{lk_name}_url"], results[lk_name]
                )
                if plan.open_loop:
                    method = (
                        "fixed schedule, one connection, "
                        "latency from each request's intended send time"
                    )
                    entry = r["warm_latency"].setdefault(
                        "open_loop", {"rate_per_s": p.open_rate, "method": method}
                    )
                    entry.update(
                        await warm.open_loop_latency(targets(), body, p.open_rate, p.open_s)
                    )
                r["footprint"]["reference"][ref_name] = {
                    f"{k}_mib": round(v / 2**20, 2) for k, v in ref.get().memory().items()
                }

            await self.section(f"{driver}: warm latency", latency)

            async def stream_first_byte() -> None:
                r.setdefault("streaming", {})[driver] = await asyncio.to_thread(
                    streaming.first_byte, lk, max(5, p.cold_samples)
                )

            await self.section(f"{driver}: streamed response, first byte", stream_first_byte)

            async def payloads() -> None:
                sizes = {label: PAYLOAD_SIZES[label] for label in plan.payload_sizes}
                for label, entry in (
                    await warm.payload_scaling(targets(), sizes, p.payload_s)
                ).items():
                    r["payload_scaling"].setdefault(label, {"bytes": entry["bytes"]}).update(
                        {k: v for k, v in entry.items() if k != "bytes"}
                    )

            if plan.payload_sizes:
                await self.section(f"{driver}: payload scaling", payloads)

            async def scale_out() -> None:
                files: dict[str, str | bytes] = {"app.py": ECHO}
                r["scale_out"][driver] = await cold.scale_out(
                    lk, files, p.scale_n, 0.1, p.scale_reps, keep=SCALE_FUNCTION
                )
                python_functions.append(SCALE_FUNCTION)
                if serial_reference:
                    r["scale_out"]["reference_serial"] = {
                        "reference": ref_name,
                        **await cold.serial_reference(ref.get().target, p.scale_n, 0.1),
                    }

            await self.section(f"{driver}: scale-out", scale_out)

            for n in [n for n in plan.footprint_steps if n > 10]:
                await self.section(f"{driver}: footprint at {n}", partial(grow_and_snapshot, n))
            await self.section(
                f"{driver}: bare interpreter", lambda: self._beyond_interpreter(driver)
            )

            async def throughputs() -> None:
                await self._throughputs(lk, ref.get(), plan, fp)

            await self.section(f"{driver}: throughput", throughputs)

            async def wrk_figures() -> None:
                await self._wrk(lk, ref.get())

            await self.section(f"{driver}: wrk", wrk_figures)

            async def probe_reference() -> None:
                doomed = self._reference(driver)
                try:
                    await closed_loop(doomed.target, b"{}", 1, requests_per_worker=1)
                    result = await concurrency_probe(doomed, b'{"sleep": 0.2}', 4)
                finally:
                    doomed.close()
                r["throughput"]["rie_concurrency"][driver] = result

            await self.section(f"{driver}: RIE at concurrency > 1", probe_reference)
            stopping = time.monotonic()
        self.section_s[f"{driver}: server stop"] = round(time.monotonic() - stopping, 1)

    async def _throughputs(
        self, lk: Lambkin, rie: RieHost | RieContainer, plan: Plan, fp: dict[str, Any]
    ) -> None:
        r, p = self.r, self.p
        lk_name, ref_name = f"lambkin_{lk.driver}", report.GROUPS[lk.driver]
        body = warm.payload(100)
        echo = lk.target("echo")
        peak = sysinfo.RssSampler(lk.pid)
        out = r["throughput"].setdefault(lk_name, {})
        for c in plan.concurrencies:
            await warm.grow(echo, c, lambda: lk.live_instances("echo"))
            run = await warm.throughput(
                echo, body, c, p.throughput_s, p.warmup_s, self._cpu_probe(lk), peak.sample
            )
            run["instances"] = lk.live_instances("echo")
            out[str(c)] = run
            log.info("%s c=%d: %.0f/s", lk.driver, c, run["per_s"])

        ref_run = await warm.throughput(
            rie.target, body, 1, p.throughput_s, p.warmup_s, _reference_probe(rie)
        )
        r["throughput"][ref_name] = {"1": ref_run}
        for c in plan.concurrencies:
            r["throughput"]["ratios"][f"{lk_name}@{c}/{ref_name}@1"] = ratio(
                out[str(c)]["per_s"], ref_run["per_s"]
            )
        saturated = max(out.values(), key=lambda run: run["per_s"])
        r["control_plane_cpu"][lk.driver] = {
            "unit": "CPU ms per invocation",
            "saturation": {
                **saturated["cpu_ms_per_invocation"],
                "concurrency": saturated["concurrency"],
                "per_s": saturated["per_s"],
            },
            "by_concurrency": {c: run["cpu_ms_per_invocation"] for c, run in out.items()},
            "reference_rie": ref_run["cpu_ms_per_invocation"],
            "cpu_bound_per_s": round(
                sysinfo.cpu_count()
                * 1000
                / max(
                    sum(
                        ms
                        for party, ms in saturated["cpu_ms_per_invocation"].items()
                        if not party.startswith("of_which_")
                    ),
                    1e-9,
                ),
                0,
            ),
        }
        fp["under_load_peak_rss_mib"] = round(peak.max_bytes / 2**20, 2)
        await asyncio.sleep(2)  # the agent gives its free pages back a second after the last
        agents = [c.pid for c in lk.containers("echo")] if lk.driver == "docker" else lk.agents()
        rss = [sysinfo.rss_bytes(pid) for pid in agents]
        if rss:  # the agents that served the throughput runs, idle again
            fp["agent_rss_after_load_mib"] = {
                "mean": round(sum(rss) / len(rss) / 2**20, 2),
                "max": round(max(rss) / 2**20, 2),
                "agents": len(rss),
            }

    async def _wrk(self, lk: Lambkin, rie: RieHost | RieContainer) -> None:
        """The warm-latency and throughput figures again, with wrk as the load generator."""
        section, p = self.r["wrk"], self.p
        binary = wrk.binary()
        if binary is None:
            missing = f"no `{wrk.wanted()}` on PATH"
            if p.wrk_required:
                raise RuntimeError(f"{missing}: {wrk.INSTALL_HINT}")
            section["skipped"] = (
                f"{missing}, and the {p.name} profile installs nothing: {wrk.INSTALL_HINT}"
            )
            return
        section["version"] = wrk.version(binary)
        echo = lk.target("echo")
        await warm.grow(echo, max(p.wrk_concurrencies), lambda: lk.live_instances("echo"))
        result = await wrk.compare(
            binary,
            (f"lambkin_{lk.driver}", echo, self._cpu_probe(lk)),
            (report.GROUPS[lk.driver], rie.target, _reference_probe(rie)),
            warm.payload(100),
            p.wrk_concurrencies,
            p.wrk_s,
            p.warmup_s,
        )
        for part in ("warm_latency", "throughput"):
            section[part]["ratios"].update(result[part].pop("ratios"))
            section[part].update(result[part])

    def _cpu_probe(self, lk: Lambkin) -> Callable[[], dict[str, float]]:
        """Cumulative CPU seconds: the control plane, its log writer, its instances, and for
        docker the engine."""
        # `of_which_agents`: the agents' own CPU (not their runtimes'), already in `instances`.
        # `log_writer`: the process that stores the instances' logs (orchestrator/log_writer.py).
        helpers = sysinfo.helpers_of(lk.pid)
        if lk.driver == "docker":
            containers = lk.containers("echo")
            engine = sysinfo.engine_cpu()
            agents = [c.pid for c in containers]
            return lambda: {
                "control_plane": sysinfo.cpu_seconds(lk.pid),
                "log_writer": sysinfo.tree_cpu_seconds(helpers),
                "instances": sysinfo.containers_cpu_seconds(containers),
                "of_which_agents": sysinfo.tree_cpu_seconds(agents),
                "docker_engine": sysinfo.engine_cpu_since(engine),
            }
        agents = lk.agents()
        return lambda: {
            "control_plane": sysinfo.cpu_seconds(lk.pid),
            "log_writer": sysinfo.tree_cpu_seconds(helpers),
            "instances": sysinfo.tree_cpu_seconds(lk.agent_pids()),
            "of_which_agents": sysinfo.tree_cpu_seconds(agents),
        }

    async def _beyond_interpreter(self, driver: str) -> None:
        fp = self.r["footprint"][driver]
        first = fp["instances"].get("10") or next(iter(fp["instances"].values()), None)
        if first is None or "per_instance_mib" not in first:
            raise RuntimeError("no instance memory was measured")
        if driver == "docker":
            bare = footprint.interpreter_in_container(IMAGE)
            key, measure = (
                "working_set",
                "container working set (cgroup usage minus inactive file cache), "
                "mean over idle instances",
            )
        else:
            bare = footprint.interpreter_on_host()
            key, measure = "pss", "PSS of agent + runtime processes, mean over idle instances"
        fp["interpreter"] = bare
        fp["beyond_interpreter_mib"] = round(
            first["per_instance_mib"][key]["mean"] - bare[f"{key}_mib"], 2
        )
        fp["beyond_interpreter_measure"] = measure

    # -- the whole run ---------------------------------------------------------------------------

    async def run(self, docker: bool) -> dict[str, Any]:
        started = time.monotonic()
        await self.section(
            "process driver",
            lambda: self.group("process", self.p.process, serial_reference=not docker),
        )
        docker_plan = self.p.docker
        if docker and docker_plan is not None:
            await self.section(
                "docker driver", lambda: self.group("docker", docker_plan, serial_reference=True)
            )
        else:
            self.r["skipped"] = {
                "docker": "no Docker engine or runtime images"
                if self.p.docker
                else f"not in the {self.p.name} profile"
            }

        async def idle_fleet() -> None:
            self.r["idle_fleet"] = await fleet.idle_fleet(
                self.p.fleet_instances, self.p.fleet_window_s, self.server_env
            )

        if self.p.fleet_instances:
            self.r["plan"]["idle_fleet"] = {
                "instances": self.p.fleet_instances,
                "window_s": self.p.fleet_window_s,
            }
            await self.section(f"idle fleet of {self.p.fleet_instances}", idle_fleet)

        async def floor() -> None:
            # CPU ticks are 10 ms: the smoke profile's few round trips only prove the section runs.
            trips = 2_000 if self.p.name == "smoke" else 20_000
            self.r["wake_up_floor"] = await asyncio.to_thread(wake_up_floor, trips)

        await self.section("wake-up floor", floor)
        self.r["targets"] = report.evaluate_targets(self.r)
        self.r["sections_s"] = self.section_s
        self.r["errors"] = self.errors
        self.r["duration_s"] = round(time.monotonic() - started, 1)
        return self.r


def _reference_probe(rie: RieHost | RieContainer) -> Callable[[], dict[str, float]]:
    """Cumulative CPU seconds of the reference (RIE and its runtime client)."""
    return lambda: {"reference": rie.cpu_seconds()}


def _tree(root: Path) -> dict[str, str | bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
