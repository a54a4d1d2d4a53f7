"""Runs the bootstrap agent (the Go binary the drivers run) as a real subprocess for tests.

All control calls go over ONE keep-alive connection, as the control plane's would. The agent's
stdout (ready line, then one JSON log event a line: runtime output, START/END/REPORT) is
collected by a reader thread; `lines()` gives the events' messages, `events()` the events.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.go_agent import go_agent_binary

REPO = Path(__file__).resolve().parents[3]
RUNTIMES = Path(__file__).resolve().parent


def default_agent_argv() -> list[str]:
    """The agent the tests run: the binary the drivers run (LAMBKIN_AGENT_BINARY names another)."""
    return [str(go_agent_binary())]


def runtime_cmd(script: str) -> list[str]:
    return [sys.executable, str(RUNTIMES / script)]


@dataclass
class Invoked:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def outcome(self) -> str | None:
        return self.headers.get("lambkin-outcome")

    @property
    def error_type(self) -> str | None:
        return self.headers.get("lambkin-error-type")

    @property
    def tail(self) -> str:
        return base64.b64decode(self.headers.get("lambkin-log-tail", "")).decode()

    def json(self) -> Any:
        return json.loads(self.body)


class AgentProcess:
    def __init__(
        self,
        cmd: Sequence[str],
        runtime_env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        init_timeout_s: float | None = None,
        extra_env: Mapping[str, str] | None = None,
        agent_argv: Sequence[str] | None = None,  # default_agent_argv()
        agent_cwd: str | os.PathLike[str] = REPO,
    ) -> None:
        self.token = secrets.token_hex(32)  # sent on every control request
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LAMBKIN_CONTROL_TOKEN": self.token,
            "LAMBKIN_CONTROL_ADDR": "127.0.0.1:0",
            "LAMBKIN_RUNTIME_API_ADDR": "127.0.0.1:0",
            "LAMBKIN_XRAY_DAEMON_ADDR": "127.0.0.1:0",  # agents on the host share its loopback
            "LAMBKIN_MEMORY_SOURCE": "proc",
            "LAMBKIN_RUNTIME_CMD": json.dumps(list(cmd)),
            "LAMBKIN_RUNTIME_ENV": json.dumps(dict(runtime_env or {})),
            "LAMBKIN_RUNTIME_CWD": str(cwd or REPO),
            "LAMBKIN_INSTANCE_ID": "test-" + uuid.uuid4().hex[:8],
        }
        if init_timeout_s is not None:
            env["LAMBKIN_INIT_TIMEOUT_S"] = str(init_timeout_s)
        env.update(extra_env or {})
        self.proc = subprocess.Popen(
            list(agent_argv) if agent_argv is not None else default_agent_argv(),
            cwd=agent_cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        ready_line = self.proc.stdout.readline()
        if not ready_line:
            raise RuntimeError(f"agent died before ready: {self.proc.stderr.read()!r}")
        self.ready_line = ready_line.decode()
        self.port = json.loads(ready_line)["control_port"]
        self._lines: list[str] = []
        self._events: list[dict[str, Any]] = []
        self.stderr = b""
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._collect, daemon=True),
            threading.Thread(target=self._collect_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def _collect(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            event = json.loads(raw)  # every stdout line after the ready line is a log event
            with self._changed:
                self._events.append(event)
                self._lines.append(event["m"])
                self._changed.notify_all()

    def _collect_stderr(self) -> None:
        assert self.proc.stderr is not None
        self.stderr = self.proc.stderr.read()

    # -- stdout --------------------------------------------------------------------------------

    def lines(self) -> list[str]:
        with self._changed:
            return list(self._lines)

    def events(self) -> list[dict[str, Any]]:
        with self._changed:
            return list(self._events)

    def wait_for_line(self, predicate: Callable[[str], bool], timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self._lines:
                    if predicate(line):
                        return line
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching line in agent stdout: {self._lines}")
                self._changed.wait(remaining)

    def runtime_pids(self) -> list[int]:
        """pids from the `... init pid=N` lines the test runtimes print first thing."""
        return [
            int(line.split("pid=")[1].split()[0]) for line in self.lines() if " init pid=" in line
        ]

    # -- control protocol ----------------------------------------------------------------------

    def request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Invoked:
        all_headers = {"Lambkin-Token": self.token, **(headers or {})}
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        data = response.read()
        return Invoked(response.status, {k.lower(): v for k, v in response.getheaders()}, data)

    def invoke(
        self,
        payload: object = None,
        *,
        raw: bytes | None = None,
        request_id: str | None = None,
        timeout_ms: int = 3000,
        headers: Mapping[str, str] | None = None,
    ) -> Invoked:
        body = raw if raw is not None else json.dumps(payload).encode()
        all_headers = {
            "Lambkin-Request-Id": request_id or str(uuid.uuid4()),
            "Lambkin-Timeout-Ms": str(timeout_ms),
            "Content-Type": "application/json",
        }
        all_headers.update(headers or {})
        return self.request("POST", "/invoke", body, all_headers)

    def health(self) -> dict[str, Any]:
        response = self.request("GET", "/health")
        assert response.status == 200
        health: dict[str, Any] = response.json()
        return health

    def wait_for_state(self, state: str, timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            health = self.health()
            if health["runtime"] == state or time.monotonic() > deadline:
                return health
            time.sleep(0.01)

    def close(self) -> int:
        """Stop the agent (SIGTERM), wait for it; its exit code."""
        self.conn.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            for reader in self._readers:
                reader.join(5)
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream is not None:
                    stream.close()
