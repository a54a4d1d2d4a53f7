"""The wake-up floor: what one request and its reply cost a process in CPU on this machine.

The agent is woken three times per warm invocation (the control plane's request, the runtime's
response, the runtime's next poll); each wake-up is a sleep in the kernel, a context switch and
a few system calls, whatever the program does. A minimal Go server that reads a request and
writes it back, measured here in the same run, is the least any Go agent can spend per wake-up;
three of them are the floor under `agent CPU per warm invocation`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from orchestrator.agent_binary import go_environment, host_go

from . import sysinfo

SOURCE = Path(__file__).resolve().parent / "floor"
WAKE_UPS_PER_INVOCATION = 3
ROUND_TRIPS = 20_000


def _server_cpu_per_round_trip_us(binary: Path, env: dict[str, str], round_trips: int) -> float:
    server = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with socket.create_connection(("127.0.0.1", port)) as conn:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            request = b"x" * 100
            for _ in range(1000):  # warm up
                conn.sendall(request)
                conn.recv(65536)
            before = sysinfo.cpu_seconds(server.pid)
            for _ in range(round_trips):
                conn.sendall(request)
                conn.recv(65536)
            return (sysinfo.cpu_seconds(server.pid) - before) / round_trips * 1e6
    finally:
        server.kill()
        server.wait()


def wake_up_floor(round_trips: int = ROUND_TRIPS) -> dict[str, Any]:
    go = host_go()
    if go is None:
        return {"skipped": "no go on this host"}
    with tempfile.TemporaryDirectory(prefix="lambkin-floor-") as tmp:
        binary = Path(tmp) / "echo"
        env = go_environment(Path(tmp))
        subprocess.run(
            [go, "build", "-trimpath", "-o", str(binary), "."],
            cwd=SOURCE, env=env, check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        out: dict[str, Any] = {"round_trips": round_trips}
        for label, procs in (("default", None), ("gomaxprocs_1", "1")):
            run_env = dict(os.environ)
            if procs:
                run_env["GOMAXPROCS"] = procs
            samples = [
                _server_cpu_per_round_trip_us(binary, run_env, round_trips) for _ in range(3)
            ]
            out[f"go_round_trip_us_{label}"] = round(sorted(samples)[1], 1)  # the median
        best = min(out["go_round_trip_us_default"], out["go_round_trip_us_gomaxprocs_1"])
        out["agent_floor_ms"] = round(WAKE_UPS_PER_INVOCATION * best / 1000, 3)
        out["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return out
