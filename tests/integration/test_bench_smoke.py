"""The benchmark harness runs end to end and writes a well-formed report (not judged on numbers).

A few seconds: the `smoke` profile measures only the process driver against AWS's Runtime
Interface Emulator as a host process (fetched into the oracle cache like the conformance tests).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import SCHEMA, validate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, "-m", "bench.run", "--profile", "smoke", "--out", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, out


def test_smoke_run_succeeds_and_writes_its_files(
    smoke_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, out = smoke_run
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert (out / "latest.json").is_file()
    assert (out / "latest.md").read_text().startswith("Measured by ")


def test_report_is_well_formed(smoke_run: tuple[subprocess.CompletedProcess[str], Path]) -> None:
    _, out = smoke_run
    report = json.loads((out / "latest.json").read_text())
    assert report["schema"] == SCHEMA
    assert report["groups"] == ["process"]
    assert validate(report) == []
    assert report["errors"] == []
    # Every figure has its reference beside it, and every target was judged.
    assert {"lambkin_process", "lambkin_process_url", "rie_host"} <= set(report["warm_latency"])
    assert report["throughput"]["rie_concurrency"]["process"]["concurrency"] > 1
    assert {t["id"] for t in report["targets"]} >= {
        "warm_p50_process",
        "warm_p99_process",
        "cp_cpu_process",
        "agent_rss_process",
        "agent_cpu_process",
        "url_p50_process",
        "stream_first_byte_process",
    }
    wrk = report["wrk"]  # measured briefly when wrk is installed; else the reason it is not
    assert wrk.get("skipped") or wrk["throughput"]["lambkin_process"]["1"]["per_s"] > 0, wrk
    floor = report["wake_up_floor"]
    assert floor.get("agent_floor_ms", 0) > 0 or floor == {"skipped": "no go on this host"}, floor
    targets = {t["id"]: t for t in report["targets"]}
    assert 0 < targets["agent_rss_process"]["measured"] < 64, targets["agent_rss_process"]
    assert targets["url_p50_process"]["measured"] > 0, targets["url_p50_process"]
    first_byte = targets["stream_first_byte_process"]
    assert 0 < first_byte["measured"] < report["streaming"]["process"]["whole_response"]["p50_ms"]
    assert all(isinstance(t["met"], bool) or t["met"] is None for t in report["targets"])


def test_chart_is_a_png_when_matplotlib_is_installed(
    smoke_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    pytest.importorskip(
        "matplotlib", reason="the chart needs the bench extra: pip install -e '.[bench]'"
    )
    _, out = smoke_run
    assert (out / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
