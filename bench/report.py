"""The report: targets judged, a Markdown table, the PNG chart, and a well-formedness check."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

SCHEMA = "lambkin-bench/1"
GROUPS = {"docker": "rie_container", "process": "rie_host"}  # Lambkin driver -> its reference


def _get(doc: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


# -- targets --------------------------------------------------------------------------------------


def evaluate_targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's bars, each with the measured figure and whether it is met (None: unmeasured)."""
    out = []

    def add(
        ident: str,
        text: str,
        measured: float | None,
        limit: float,
        higher_is_better: bool = False,
        unit: str = "",
    ) -> None:
        met = (
            None
            if measured is None
            else (measured >= limit if higher_is_better else measured <= limit)
        )
        out.append(
            {
                "id": ident,
                "target": text,
                "measured": measured,
                "limit": limit,
                "unit": unit,
                "met": met,
            }
        )

    for group, ref in GROUPS.items():
        lk = f"lambkin_{group}"
        if group not in report.get("groups", []):
            continue
        ratios = _get(report, "warm_latency", "ratios", f"{lk}/{ref}") or {}
        add(
            f"warm_p50_{group}",
            f"warm invoke p50, Lambkin ({group}) / RIE ({ref[4:]}) <= 1.3x",
            ratios.get("p50"),
            1.3,
            unit="x",
        )
        add(
            f"warm_p99_{group}",
            f"warm invoke p99, Lambkin ({group}) / RIE ({ref[4:]}) <= 2x",
            ratios.get("p99"),
            2.0,
            unit="x",
        )
        add(
            f"stream_first_byte_{group}",
            f"streamed response ({group}): first byte p50 before the handler's 1 s sleep ends",
            _get(report, "streaming", group, "first_byte", "p50_ms"),
            1000.0,
            unit="ms",
        )
        url = _get(report, "warm_latency", "ratios", f"{lk}_url/{lk}") or {}
        add(
            f"url_p50_{group}",
            f"warm function URL p50 / warm Invoke p50, Lambkin ({group}) <= 1.1x",
            url.get("p50"),
            1.1,
            unit="x",
        )
        add(
            f"throughput_c8_{group}",
            f"throughput at concurrency 8, Lambkin ({group}) / RIE ({ref[4:]}) at 1 >= 2x",
            _get(report, "throughput", "ratios", f"{lk}@8/{ref}@1"), 2.0,
            higher_is_better=True, unit="x",
        )  # fmt: skip
        at_8 = _get(report, "throughput", lk, "8", "per_s")
        at_64 = _get(report, "throughput", lk, "64", "per_s")
        add(
            f"throughput_no_fall_{group}",
            f"throughput at concurrency 64 / at 8, Lambkin ({group}) >= 1 (no fall)",
            round(at_64 / at_8, 2) if at_8 and at_64 else None, 1.0,
            higher_is_better=True, unit="x",
        )  # fmt: skip
        saturation = _get(report, "control_plane_cpu", group, "saturation") or {}
        add(
            f"cp_cpu_{group}",
            f"control-plane CPU per warm invocation at saturation ({group}) <= 0.25 ms",
            saturation.get("control_plane"), 0.25, unit="ms",
        )  # fmt: skip
        parties = ("control_plane", "log_writer", "instances", "docker_engine")
        add(
            f"all_parties_cpu_{group}",
            f"CPU per warm invocation at saturation, all parties ({group}: control plane, its "
            "log writer, agent, runtime, engine) <= 0.8 ms",
            round(sum(saturation.get(k) or 0.0 for k in parties), 3) if saturation else None,
            0.8, unit="ms",
        )  # fmt: skip
        beyond = _get(report, "footprint", group, "beyond_interpreter_mib")
        add(
            f"idle_instance_{group}",
            f"idle Python instance beyond the interpreter ({group}) <= 10 MB",
            beyond,
            10.0 * 1e6 / 2**20,
            unit="MiB",
        )
        add(
            f"agent_rss_{group}",
            f"agent RSS when idle ({group}) <= 3 MB",
            _get(report, "footprint", group, "one_instance_processes", "agent_rss_mib"),
            3.0 * 1e6 / 2**20,
            unit="MiB",
        )
        add(
            f"agent_rss_after_load_{group}",
            f"agent RSS idle after the throughput runs, mean ({group}) <= 3 MB",
            _get(report, "footprint", group, "agent_rss_after_load_mib", "mean"),
            3.0 * 1e6 / 2**20,
            unit="MiB",
        )
        add(
            f"agent_cpu_{group}",
            f"agent CPU per warm invocation at saturation ({group}) <= 0.05 ms "
            f"(floor on this machine: {_fmt(_get(report, 'wake_up_floor', 'agent_floor_ms'), 3)} "
            "ms, three wake-ups of a minimal Go server)",
            _get(report, "control_plane_cpu", group, "saturation", "of_which_agents"),
            0.05,
            unit="ms",
        )
        if group == "docker":
            add(
                "engine_cpu_docker",
                "engine CPU (dockerd, containerd, shims) per warm invocation at saturation "
                "<= 0.05 ms",
                _get(report, "control_plane_cpu", group, "saturation", "docker_engine"),
                0.05,
                unit="ms",
            )
    floor = _get(report, "cold_start", "docker_run_floor", "total_ms", "p50_ms")
    vacancy = _get(report, "cold_start", "docker_vacancy", "phases", "total_ms", "p50_ms")
    if vacancy is not None or "docker" in report.get("groups", []):
        add(
            "cold_docker",
            "docker cold start p50 (a Python hello world, from a vacant instance) / "
            "`docker run` floor p50 <= 0.5x",
            None if vacancy is None or not floor else round(vacancy / floor, 2),
            0.5,
            unit="x",
        )
        add(
            "cold_docker_moonshot",
            "docker cold start p50 (from a vacant instance) <= 100 ms (the moonshot)",
            None if vacancy is None else round(vacancy, 1),
            100.0,
            unit="ms",
        )
    fleet = report.get("idle_fleet")
    if fleet is not None:
        n = fleet.get("wanted")
        add(
            "fleet_rss",
            f"{n} idle warm instances (process driver): control-plane RSS <= 200 MB",
            fleet.get("control_plane_rss_mib"),
            200.0 * 1e6 / 2**20,
            unit="MiB",
        )
        add(
            "fleet_housekeeping",
            f"{n} idle warm instances (process driver): housekeeping <= 2% of one core",
            fleet.get("housekeeping_cpu_percent_of_one_core"),
            2.0,
            unit="% of one core",
        )
    return out


# -- Markdown -------------------------------------------------------------------------------------


def _p50_p99(summary: Any) -> str:
    return (
        f"{_fmt(_get(summary, 'p50_ms'))} ({_fmt(_get(summary, 'p99_ms'))})" if summary else "n/a"
    )


def _latency_rows(wl: dict[str, Any], how: str) -> list[str]:
    """Warm invoke p50, p95, p99 of each driver beside its reference, and the ratios."""
    lines = []
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        row = [f"warm invoke {label}, 100 B, {how}"]
        for group, ref in GROUPS.items():
            a, b = _get(wl, f"lambkin_{group}", key), _get(wl, ref, key)
            row += [
                _fmt(a),
                _fmt(b),
                _fmt(_get(wl, "ratios", f"lambkin_{group}/{ref}", label)) + "x",
            ]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _throughput_rows(tp: dict[str, Any], concurrencies: list[int], how: str) -> list[str]:
    """Invocations/s at each concurrency; the reference at 1 only (it refuses a second)."""
    lines = []
    for c in concurrencies:
        row = [f"throughput, invocations/s, concurrency {c}{how}"]
        for group, ref in GROUPS.items():
            a = _get(tp, f"lambkin_{group}", str(c), "per_s")
            b = _get(tp, ref, "1", "per_s") if c == 1 else None
            ref_text = _fmt(b, 0) if c == 1 else "refused (one at a time)"
            ratio = _get(tp, "ratios", f"lambkin_{group}@{c}/{ref}@1")
            row += [_fmt(a, 0), ref_text, _fmt(ratio) + "x" if ratio is not None else ""]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def markdown(report: dict[str, Any]) -> str:
    """The README's Performance table, from a report."""
    lines = []
    machine = report.get("machine", {})
    lines.append(
        f"Measured by `{report.get('command', 'make bench')}` ({report.get('profile')} profile, "
        f"{_fmt(report.get('duration_s'), 0)} s) on {machine.get('cpus')} CPUs "
        f"({machine.get('cpu_model')}), {machine.get('memory_gib')} GiB, "
        f"Linux {machine.get('kernel')}, Docker {machine.get('docker')}; "
        f"Lambkin {report.get('versions', {}).get('lambkin')}. Reference: AWS RIE + awslambdaric "
        f"{report.get('versions', {}).get('awslambdaric')}, same echo handler. Times in ms."
    )
    if report.get("server_env"):
        lines[-1] += (
            " Server settings: "
            + ", ".join(f"`{k}={v}`" for k, v in report["server_env"].items())
            + "."
        )
    lines.append("")
    lines.append(
        "| measure | Lambkin docker | RIE in container | ratio "
        "| Lambkin process | RIE host process | ratio |"
    )
    lines.append("|---|---|---|---|---|---|---|")
    plans = report.get("plan", {})
    concurrencies = sorted({c for plan in plans.values() for c in plan.get("concurrencies", [])})
    lines += _latency_rows(report.get("warm_latency", {}), "1 client")
    lines += _throughput_rows(report.get("throughput", {}), concurrencies, "")
    wrk = report.get("wrk", {})
    if _get(wrk, "throughput", "ratios"):
        lines += _latency_rows(wrk["warm_latency"], "1 connection, wrk")
        lines += _throughput_rows(wrk["throughput"], wrk.get("concurrencies", []), ", wrk")
        row = ["load generator CPU per invocation at concurrency 1, built-in / wrk (ms)"]
        for group, ref in GROUPS.items():
            for who in (f"lambkin_{group}", ref):
                row.append(
                    " / ".join(
                        _fmt(_get(doc, who, "1", "cpu_ms_per_invocation", "loadgen"), 3)
                        for doc in (report.get("throughput", {}), wrk["throughput"])
                    )
                )
            row.append("")
        lines.append("| " + " | ".join(row) + " |")
    for label, entry in report.get("payload_scaling", {}).items():
        row = [f"payload {label} echo, p50 (p99)"]
        for group, ref in GROUPS.items():
            a, b = _get(entry, f"lambkin_{group}"), _get(entry, ref)
            r = (
                _get(a, "p50_ms") / _get(b, "p50_ms")
                if _get(a, "p50_ms") and _get(b, "p50_ms")
                else None
            )
            row += [_p50_p99(a), _p50_p99(b), _fmt(r) + "x" if r else ""]
        lines.append("| " + " | ".join(row) + " |")
    cold = report.get("cold_start", {})
    floor = _get(cold, "docker_run_floor", "total_ms", "p50_ms")
    row = ["cold start p50, Python hello world (floor: `docker run --rm IMAGE python3 -c pass`)"]
    row += [_fmt(_get(cold, "docker", "phases", "total_ms", "p50_ms")), f"floor {_fmt(floor)}", ""]
    row += [_fmt(_get(cold, "process", "phases", "total_ms", "p50_ms")), "", ""]
    lines.append("| " + " | ".join(row) + " |")
    vacancy = _get(cold, "docker_vacancy", "phases", "total_ms", "p50_ms")
    if vacancy is not None or _get(cold, "process_vacancy") is not None:
        row = ["cold start p50, the same, from a vacant instance (orchestrator/vacancies.py)"]
        share = f"{vacancy / floor:.2f}x floor" if vacancy is not None and floor else ""
        row += [_fmt(vacancy), f"floor {_fmt(floor)}", share]
        row += [_fmt(_get(cold, "process_vacancy", "phases", "total_ms", "p50_ms")), "", ""]
        lines.append("| " + " | ".join(row) + " |")
    image_cold = _get(cold, "docker_image_function", "phases", "total_ms", "p50_ms")
    if image_cold is not None:
        row = ["cold start p50, the same hello world as a container-image function"]
        row += [_fmt(image_cold), f"floor {_fmt(floor)}", "", "", "", ""]
        lines.append("| " + " | ".join(row) + " |")
    for key, runtime in (("java_warm_reuse", "java17"), ("mono_warm_reuse", "mono6.12")):
        reuse = report.get(key, {})
        if not reuse:
            continue
        row = [f"{runtime}: first invocation / warm p50 (speed-up)"]
        for group in GROUPS:
            first, warm = _get(reuse, group, "first_ms"), _get(reuse, group, "warm", "p50_ms")
            speedup = _get(reuse, group, "speedup_first_over_warm_p50")
            row += [
                f"{_fmt(first, 0)} / {_fmt(warm)} ({_fmt(speedup, 0)}x)" if first else "",
                "",
                "",
            ]
        lines.append("| " + " | ".join(row) + " |")
    so = report.get("scale_out", {})
    serial = _get(so, "reference_serial") or {}
    row = [
        f"scale-out: {_get(so, 'concurrent') or 50} concurrent x 100 ms from zero, "
        "until all returned"
    ]
    for group, ref in GROUPS.items():
        ref_cell = (
            f"{_fmt(serial.get('all_returned_ms'), 0)} (one at a time)"
            if serial.get("reference") == ref
            else ""
        )
        row += [_fmt(_get(so, group, "all_returned_ms", "p50_ms"), 0), ref_cell, ""]
    lines.append("| " + " | ".join(row) + " |")
    cpu = report.get("control_plane_cpu", {})
    for label, party in (
        ("control-plane CPU per invocation at saturation (ms)", "control_plane"),
        ("its log writer process's CPU per invocation at saturation (ms)", "log_writer"),
        ("agent CPU per invocation at saturation (ms)", "of_which_agents"),
        ("docker engine CPU per invocation at saturation (ms)", "docker_engine"),
    ):
        row = [label]
        for group in GROUPS:
            row += [_fmt(_get(cpu, group, "saturation", party), 3), "", ""]
        lines.append("| " + " | ".join(row) + " |")
    fp_all = report.get("footprint", {})
    row = ["agent RSS idle: new instance / after the throughput runs (MiB)"]
    for group in GROUPS:
        row += [
            f"{_fmt(_get(fp_all, group, 'one_instance_processes', 'agent_rss_mib'), 2)} / "
            f"{_fmt(_get(fp_all, group, 'agent_rss_after_load_mib', 'mean'), 2)}",
            "",
            "",
        ]
    lines.append("| " + " | ".join(row) + " |")
    fp = report.get("footprint", {})
    row = ["control-plane RSS idle / under load (MiB)"]
    for group in GROUPS:
        row += [
            f"{_fmt(_get(fp, group, 'idle', 'control_plane_rss_mib'), 1)} / "
            f"{_fmt(_get(fp, group, 'under_load_peak_rss_mib'), 1)}",
            "",
            "",
        ]
    lines.append("| " + " | ".join(row) + " |")
    steps = sorted({int(n) for g in GROUPS for n in (_get(fp, g, "instances") or {})})
    for n in steps:
        row = [f"{n} idle instances: control-plane RSS / per instance (MiB)"]
        for group, ref in GROUPS.items():
            snap = _get(fp, group, "instances", str(n)) or {}
            per = _get(snap, "per_instance_mib", "working_set", "mean") or _get(
                snap, "per_instance_mib", "pss", "mean"
            )
            ref_mem = _get(fp, "reference", ref)
            ref_cell = (
                ""
                if n != steps[0] or not ref_mem
                else f"RIE: {_fmt(ref_mem.get('working_set_mib', ref_mem.get('pss_mib')), 1)}"
            )
            row += [
                f"{_fmt(_get(snap, 'control_plane_rss_mib'), 1)} / {_fmt(per, 1)}",
                ref_cell,
                "",
            ]
        lines.append("| " + " | ".join(row) + " |")
    fleet = report.get("idle_fleet")
    if fleet:
        row = [
            f"{fleet.get('instances')} idle instances: control-plane RSS (MiB) / housekeeping "
            "CPU (% of one core)",
            "", "", "",
            f"{_fmt(fleet.get('control_plane_rss_mib'), 1)} / "
            f"{_fmt(fleet.get('housekeeping_cpu_percent_of_one_core'), 2)}",
            "", "",
        ]  # fmt: skip
        lines.append("| " + " | ".join(row) + " |")
    if _get(wrk, "skipped"):
        lines += ["", f"wrk figures: not measured ({wrk['skipped']})."]
    lines.append("")
    spread = report.get("spread", {})
    runs = spread.get("runs", 1)
    if runs > 1:
        lines.append(
            f"| target | measured (this run) | median [min-max] over {runs} runs | met (this run) |"
        )
        lines.append("|---|---|---|---|")
    else:
        lines.append("| target | measured | met |")
        lines.append("|---|---|---|")
    for target in report.get("targets", []):
        met = {True: "yes", False: "**no**", None: "not measured"}[target["met"]]
        cells = [target["target"], f"{_fmt(target['measured'])} {target['unit']}"]
        if runs > 1:
            over = _get(spread, "targets", target["id"]) or {}
            cells.append(
                f"{_fmt(over.get('median'))} [{_fmt(over.get('min'))}-{_fmt(over.get('max'))}]"
                if over.get("median") is not None
                else "n/a"
            )
        lines.append("| " + " | ".join([*cells, met]) + " |")
    return "\n".join(lines) + "\n"


def spread(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each target's figure over several whole runs: median, min, max, and in how many runs it
    was met (the last run is the report the spread is attached to)."""
    by_id: dict[str, list[tuple[float, bool | None]]] = {}
    for run in runs:
        for target in run.get("targets", []):
            if _number(target.get("measured")):
                by_id.setdefault(target["id"], []).append((target["measured"], target["met"]))
    out: dict[str, Any] = {}
    for ident, values in by_id.items():
        figures = sorted(v for v, _ in values)
        middle = len(figures) // 2
        median = (
            figures[middle]
            if len(figures) % 2
            else round((figures[middle - 1] + figures[middle]) / 2, 4)
        )
        out[ident] = {
            "median": median,
            "min": figures[0],
            "max": figures[-1],
            "values": [v for v, _ in values],
            "met_in_runs": sum(1 for _, met in values if met),
        }
    return {"runs": len(runs), "targets": out}


# -- the chart ------------------------------------------------------------------------------------


def render_chart(report: dict[str, Any], path: Path) -> bool:
    """Latency percentiles, throughput per concurrency, payload scaling, cold-start phases.
    False when matplotlib is not installed (pip install -e '.[bench]')."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, axes = plt.subplots(2, 2, figsize=(13, 9))
    fig.suptitle(
        f"Lambkin vs AWS RIE + awslambdaric ({report.get('profile')} run, "
        f"{report.get('machine', {}).get('cpus')} CPUs)"
    )

    ax = axes[0][0]
    wl = report.get("warm_latency", {})
    names = [
        n
        for n in (
            "lambkin_docker",
            "lambkin_docker_awslambdaric",
            "rie_container",
            "lambkin_process",
            "rie_host",
        )
        if n in wl
    ]
    width = 0.8 / 3
    for i, (key, label) in enumerate((("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))):
        values = [wl[n].get(key, 0) for n in names]
        ax.bar([x + i * width for x in range(len(names))], values, width, label=label)
    ax.set_xticks(
        [x + width for x in range(len(names))], [n.replace("_", "\n", 1) for n in names], fontsize=8
    )
    ax.set_ylabel("ms")
    ax.set_title("Warm invoke latency, 100 B echo, one client")
    ax.legend()

    ax = axes[0][1]
    tp = report.get("throughput", {})
    for name in ("lambkin_docker", "lambkin_process"):
        if name in tp:
            cs = sorted(int(c) for c in tp[name])
            ax.plot(cs, [tp[name][str(c)]["per_s"] for c in cs], marker="o", label=name)
    for name, marker in (("rie_container", "s"), ("rie_host", "^")):
        if name in tp and "1" in tp[name]:
            ax.scatter(
                [1],
                [tp[name]["1"]["per_s"]],
                marker=marker,
                s=60,
                zorder=3,
                label=f"{name} (one at a time only)",
            )
    ax.set_xscale("log", base=2)
    ticks = sorted(
        {int(c) for name in ("lambkin_docker", "lambkin_process") for c in tp.get(name, {})} | {1}
    )
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("client concurrency")
    ax.set_ylabel("invocations / s")
    ax.set_title("Throughput")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    ps = report.get("payload_scaling", {})
    labels = list(ps)
    for name in ("lambkin_docker", "rie_container", "lambkin_process", "rie_host"):
        points = [
            (ps[label]["bytes"], ps[label][name]["p50_ms"]) for label in labels if name in ps[label]
        ]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("payload bytes (echoed)")
    ax.set_ylabel("p50 ms")
    ax.set_title("Payload scaling")
    ax.legend(fontsize=8)

    ax = axes[1][1]
    cold = report.get("cold_start", {})
    bars: list[tuple[str, list[tuple[str, float]]]] = []
    docker_phases = _get(cold, "docker", "phases") or {}
    order = [
        "placement_and_create_ms",
        "container_start_ms",
        "agent_boot_and_handoffs_ms",
        "runtime_init_ms",
        "first_invoke_ms",
    ]
    if docker_phases:
        bars.append(
            (
                "lambkin docker",
                [(k, docker_phases[k]["p50_ms"]) for k in order if k in docker_phases],
            )
        )
    vacancy_phases = _get(cold, "docker_vacancy", "phases") or {}
    if vacancy_phases:
        order_v = [
            "platform_specialise_ms",
            "platform_ready_ms",
            "runtime_init_ms",
            "first_invoke_ms",
        ]
        bars.append(
            (
                "lambkin docker, vacancy",
                [(k, vacancy_phases[k]["p50_ms"]) for k in order_v if k in vacancy_phases],
            )
        )
    floor = _get(cold, "docker_run_floor", "total_ms", "p50_ms")
    if floor is not None:
        bars.append(("docker run floor", [("docker run --rm ... python3 -c pass", floor)]))
    process_phases = _get(cold, "process", "phases") or {}
    if process_phases:
        order_p = ["spawn_agent_boot_and_handoffs_ms", "runtime_init_ms", "first_invoke_ms"]
        bars.append(
            (
                "lambkin process",
                [(k, process_phases[k]["p50_ms"]) for k in order_p if k in process_phases],
            )
        )
    colors: dict[str, Any] = {}
    for y, (_label, parts) in enumerate(bars):
        left = 0.0
        for phase, ms in parts:
            color = colors.setdefault(phase, f"C{len(colors)}")
            ax.barh(
                y,
                ms,
                left=left,
                color=color,
                label=phase if phase not in ax.get_legend_handles_labels()[1] else None,
            )
            left += ms
    ax.set_yticks(range(len(bars)), [b[0] for b in bars])
    ax.set_xlabel("ms (p50 of each phase)")
    ax.set_title("Cold start, Python hello world")
    if bars:
        longest = max(sum(ms for _, ms in parts) for _, parts in bars)
        ax.set_xlim(0, longest * 1.75)  # room on the right for the legend
        ax.legend(fontsize=7, loc="center right")

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


# -- well-formedness ------------------------------------------------------------------------------


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _wrk_problems(report: dict[str, Any], groups: list[str]) -> list[str]:
    """The wrk section: every figure, or the reason it was skipped."""
    wrk = report.get("wrk")
    if not isinstance(wrk, dict):
        return ["missing section: wrk"]
    if wrk.get("skipped"):
        return []
    paths: list[tuple[str, ...]] = []
    for group in groups:
        lk, ref = f"lambkin_{group}", GROUPS[group]
        for who in (lk, ref):
            paths += [("warm_latency", who, p) for p in ("p50_ms", "p95_ms", "p99_ms")]
        paths += [("warm_latency", "ratios", f"{lk}/{ref}", p) for p in ("p50", "p95", "p99")]
        for c in wrk.get("concurrencies", []):
            paths += [("throughput", lk, str(c), "per_s")]
            paths += [("throughput", lk, str(c), "cpu_ms_per_invocation", "loadgen")]
        paths += [("throughput", ref, "1", "per_s")]
    return ["missing figure: wrk." + ".".join(p) for p in paths if not _number(_get(wrk, *p))]


def validate(report: dict[str, Any]) -> list[str]:
    """Problems that make the report unusable (missing or non-numeric figures); [] when fine.
    Checks shape, not values: a slow machine still writes a well-formed report."""
    problems: list[str] = []

    def need(*path: str) -> None:
        if not _number(_get(report, *path)):
            problems.append("missing figure: " + ".".join(path))

    if report.get("schema") != SCHEMA:
        problems.append(f"schema is not {SCHEMA}")
    groups = report.get("groups") or []
    if not groups:
        problems.append("no Lambkin driver was measured")
    for group in groups:
        lk, ref = f"lambkin_{group}", GROUPS[group]
        plan = _get(report, "plan", group) or {}
        for who in (lk, ref):
            for p in ("p50_ms", "p95_ms", "p99_ms"):
                need("warm_latency", who, p)
        for p in ("p50", "p95", "p99"):
            need("warm_latency", "ratios", f"{lk}/{ref}", p)
        for c in plan.get("concurrencies", []):
            need("throughput", lk, str(c), "per_s")
            need("throughput", lk, str(c), "cpu_ms_per_invocation", "control_plane")
        need("throughput", ref, "1", "per_s")
        if not isinstance(_get(report, "throughput", "rie_concurrency", group, "succeeded"), int):
            problems.append(f"missing figure: throughput.rie_concurrency.{group}")
        for label in plan.get("payload_sizes", []):
            need("payload_scaling", label, lk, "p50_ms")
            need("payload_scaling", label, ref, "p50_ms")
        need("cold_start", group, "phases", "total_ms", "p50_ms")
        need("cold_start", group, "phases", "runtime_init_ms", "p50_ms")
        need("cold_start", f"{group}_vacancy", "phases", "total_ms", "p50_ms")
        need("scale_out", group, "all_returned_ms", "p50_ms")
        need("footprint", group, "idle", "control_plane_rss_mib")
        need("footprint", group, "under_load_peak_rss_mib")
        need("footprint", group, "beyond_interpreter_mib")
        for n in plan.get("footprint_steps", []):
            need("footprint", group, "instances", str(n), "control_plane_rss_mib")
            need("footprint", group, "instances", str(n), "per_instance_mib", "rss", "mean")
        need("footprint", "reference", ref, "rss_mib")
        need("control_plane_cpu", group, "saturation", "control_plane")
        need("control_plane_cpu", group, "saturation", "of_which_agents")
        if plan.get("footprint_steps"):
            need("footprint", group, "one_instance_processes", "agent_rss_mib")
    problems += _wrk_problems(report, groups)
    if groups:
        need("scale_out", "reference_serial", "all_returned_ms")
    if "docker" in groups:
        need("cold_start", "docker_run_floor", "total_ms", "p50_ms")
        need("cold_start", "docker", "phases", "container_start_ms", "p50_ms")
        need("cold_start", "docker_image_function", "phases", "total_ms", "p50_ms")
    if _get(report, "plan", "idle_fleet", "instances"):
        need("idle_fleet", "control_plane_rss_mib")
        need("idle_fleet", "housekeeping_cpu_percent_of_one_core")
    if not report.get("targets"):
        problems.append("missing section: targets")
    if report.get("errors"):
        problems.append(f"errors during the run: {report['errors']}")
    return problems
