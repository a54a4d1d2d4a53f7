"""The reference: AWS's Runtime Interface Emulator with awslambdaric running the same handler.

A single-instance Lambda sandbox with no orchestration: one HTTP hop (the invoke endpoint) to a
Go Runtime API server and AWS's own Python runtime client. Both pieces are fetched at bench time
into the oracle cache (tests/support/oracles.py, the same fetch as the conformance tests) and
never committed. It runs two ways:

- `RieHost`: a host process (compare with Lambkin's process driver);
- `RieContainer`: inside one of our runtime images (lambkin/python3.11, whose Python is the one
  our functions run on), with the same memory limit as the Lambkin function, reached on its
  bridge IP like Lambkin's own containers (compare with the docker driver).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from tests.support.oracles import awslambdaric_dir, rie_binary
from tests.support.processes import stop_process

from . import sysinfo
from .loadgen import Connection, ResponseError, Target

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
CONTAINER_LABEL = "org.lambkin.bench"
RIE_PORT = 8080


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_listening(host: str, port: int, alive: Any, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            if not alive() or time.monotonic() > deadline:
                raise RuntimeError(f"RIE did not listen on {host}:{port}") from None
            time.sleep(0.02)


def function_env(name: str, memory_mb: int) -> dict[str, str]:
    return {
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
        "AWS_REGION": "us-east-1",
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
    }


class RieHost:
    """aws-lambda-rie as a host process running `python -m awslambdaric HANDLER`."""

    kind = "host"

    def __init__(self, task_dir: Path, handler: str, log_dir: Path, memory_mb: int = 128) -> None:
        self.port = _free_port()
        self.log_path = log_dir / f"rie-host-{self.port}.log"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "PYTHONPATH": f"{task_dir}:{awslambdaric_dir()}",
            "LAMBDA_TASK_ROOT": str(task_dir),
            **function_env("function", memory_mb),
        }
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (open while RIE runs; closed in close())
        self.process = subprocess.Popen(
            [
                str(rie_binary()),
                "--runtime-interface-emulator-address", f"127.0.0.1:{self.port}",
                "--runtime-api-address", f"127.0.0.1:{_free_port()}",
                sys.executable, "-m", "awslambdaric", handler,
            ],
            env=env,
            cwd=task_dir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait_listening("127.0.0.1", self.port, lambda: self.process.poll() is None)
        self.target = Target(f"rie_{self.kind}", "127.0.0.1", self.port, INVOKE_PATH)

    def alive(self) -> bool:
        return self.process.poll() is None

    def death(self) -> str:
        """Why it is no longer running: exit status and the end of its output."""
        tail = self.log_path.read_bytes()[-600:].decode("utf-8", "replace")
        return f"exit status {self.process.poll()}; output ends: {tail}"

    def pids(self) -> list[int]:
        return [self.process.pid, *sysinfo.descendants(self.process.pid)]

    def cpu_seconds(self) -> float:
        return sysinfo.tree_cpu_seconds(self.pids())

    def memory(self) -> dict[str, int]:
        """RSS and PSS summed over RIE and the runtime process."""
        pids = self.pids()
        return {
            "rss": sum(sysinfo.rss_bytes(p) for p in pids),
            "pss": sum(sysinfo.pss_bytes(p) for p in pids),
        }

    def close(self) -> None:
        stop_process(self.process)
        self._log.close()


class RieContainer:
    """aws-lambda-rie as the entrypoint of a container of our python3.11 image."""

    kind = "container"

    def __init__(
        self, task_dir: Path, handler: str, image: str = "lambkin/python3.11", memory_mb: int = 128
    ) -> None:
        self.name = f"lambkin-bench-rie-{uuid.uuid4().hex[:8]}"
        env = {
            "PYTHONPATH": "/var/task:/opt/awslambdaric",
            "LAMBDA_TASK_ROOT": "/var/task",
            **function_env("function", memory_mb),
        }
        args = ["run", "-d", "--name", self.name, "--label", f"{CONTAINER_LABEL}=true"]
        args += ["--memory", f"{memory_mb}m", "--memory-swap", f"{memory_mb}m"]
        args += ["-v", f"{rie_binary()}:/usr/local/bin/aws-lambda-rie:ro"]
        args += [
            "-v",
            f"{awslambdaric_dir()}:/opt/awslambdaric:ro",
            "-v",
            f"{task_dir}:/var/task:ro",
        ]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        args += [
            "--entrypoint",
            "/usr/local/bin/aws-lambda-rie",
            image,
            "python3",
            "-m",
            "awslambdaric",
            handler,
        ]
        self.id = sysinfo.docker(*args).strip()
        self.container = sysinfo.Container.inspect(self.id)[0]
        _wait_listening(self.container.ip, RIE_PORT, self.alive)
        self.target = Target(f"rie_{self.kind}", self.container.ip, RIE_PORT, INVOKE_PATH)

    def alive(self) -> bool:
        out = subprocess.run(
            ["docker", "inspect", "--format", "{{.State.Running}}", self.id],
            capture_output=True,
            text=True,
            check=False,
        )
        return out.stdout.strip() == "true"

    def death(self) -> str:
        """Why it is no longer running: the container's state and the end of its output."""
        state = subprocess.run(
            ["docker", "inspect", "--format", "{{json .State}}", self.id],
            capture_output=True,
            text=True,
            check=False,
        )
        logs = subprocess.run(
            ["docker", "logs", "--tail", "15", self.id], capture_output=True, text=True, check=False
        )
        return (
            f"state {state.stdout.strip() or state.stderr.strip()}; "
            f"output ends: {(logs.stdout + logs.stderr)[-600:]}"
        )

    def cpu_seconds(self) -> float:
        return sysinfo.container_cpu_seconds(self.container)

    def memory(self) -> dict[str, int]:
        return sysinfo.container_memory(self.container)

    def close(self) -> None:
        subprocess.run(["docker", "rm", "-f", self.id], capture_output=True, check=False)


Rie = RieHost | RieContainer


async def concurrency_probe(rie: Rie, body: bytes, concurrency: int) -> dict[str, Any]:
    """Send `concurrency` invocations at once to a single RIE and report what happened.

    RIE serves one invocation at a time; the rest are refused (or worse). The RIE used here is
    thrown away afterwards.
    """
    raw = rie.target.request(body)
    connections = await asyncio.gather(
        *(Connection.open(rie.target.host, rie.target.port) for _ in range(concurrency))
    )

    async def one(connection: Connection) -> str:
        try:
            status, _ = await connection.send(raw, timeout_s=15)
            return str(status)
        except ResponseError as exc:
            return str(exc).split(":")[0]
        finally:
            connection.close()

    outcomes = await asyncio.gather(*(one(c) for c in connections))
    await asyncio.sleep(0.3)
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return {
        "concurrency": concurrency,
        "outcomes": counts,
        "succeeded": counts.get("200", 0),
        "rie_still_running": rie.alive(),
    }
