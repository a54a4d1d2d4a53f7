"""The process driver: each instance is the same agent binary, run as a local process session.

The embedded default where no Docker engine answers. No isolation beyond a process session and
a private TMPDIR: memory limits are not enforced, and code that writes the literal path /tmp
shares the host's /tmp.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import signal
import sys
from pathlib import Path

from ..agent_binary import agent_binary
from ..runtimes import RUNTIMES, RuntimeSpec
from ..settings import Settings
from .base import (
    Driver,
    ExitListener,
    InstanceHandle,
    InstanceSpec,
    LogFeed,
    OwnedInstance,
    StartFailed,
)

log = logging.getLogger(__name__)

_READY_TIMEOUT_S = 10.0
_LOG_FLUSH_TIMEOUT_S = 30.0  # how long a stop waits for the last lines to reach the log feed


def _session_members(session_id: int) -> list[int]:
    """Every process in a session: the agent, its runtime and anything the runtime spawned."""
    members = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:  # fields after "comm)": state ppid pgrp session ...
            members.append(int(entry.name))
    return members


def _kill_session(session_id: int) -> None:
    for pid in _session_members(session_id):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _is_our_agent(pid: int, instance_id: str) -> bool:
    """Guard against pid reuse: the process must still carry this instance's id."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"LAMBKIN_INSTANCE_ID={instance_id}".encode() in environ.split(b"\0")


class ProcessDriver(Driver):
    name = "process"

    def __init__(self, settings: Settings, server_id: str) -> None:
        self._settings = settings
        self._server_id = server_id
        self._root = settings.instances_dir / "process"
        self._root.mkdir(parents=True, exist_ok=True)
        self._children: dict[str, asyncio.subprocess.Process] = {}
        self._drains: dict[str, asyncio.Task[None]] = {}
        self._listener: ExitListener | None = None
        self._agent = str(agent_binary(log.info))  # built here on first use, then cached

    async def watch(self, listener: ExitListener) -> None:
        self._listener = listener

    def available_runtimes(self) -> list[str]:
        """What this host can really run: python3.11 under Python 3.11; another language when
        its program (node, ruby, java) is on PATH and its client is in place (Java's compiled
        jars: `lambkin images build` makes them when the host has a JDK)."""
        return sorted(r for r, spec in RUNTIMES.items() if self._runnable(spec))

    def _runnable(self, spec: RuntimeSpec) -> bool:
        if spec.python_path:
            return sys.version_info[:2] == (3, 11)
        if spec.host_binary and shutil.which(spec.host_binary) is None:
            return False
        runtime_dir = self._settings.runtime_images_dir / (spec.client_dir or "")
        return all((runtime_dir / path).is_file() for path in spec.process_requires)

    def _instance_dir(self, instance_id: str) -> Path:
        return self._root / instance_id

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        workdir = self._instance_dir(spec.instance_id)
        (workdir / "tmp").mkdir(parents=True, exist_ok=True)
        task_root = str(spec.code_path)
        runtime_dir = str(self._settings.runtime_images_dir / (spec.runtime.client_dir or ""))
        command = spec.runtime.resolve_command(task_root, runtime_dir)
        if command[0] == "python3":
            command[0] = sys.executable
        runtime_env = spec.runtime_environment(
            task_root, runtime_dir, os.environ.get("PATH", "/usr/bin:/bin")
        )
        runtime_env["TMPDIR"] = str(workdir / "tmp")
        env = spec.agent_environment(
            command,
            runtime_env,
            LAMBKIN_CONTROL_ADDR="127.0.0.1:0",
            LAMBKIN_RUNTIME_API_ADDR="127.0.0.1:0",
            LAMBKIN_MEMORY_SOURCE="proc",
        )
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        process = await asyncio.create_subprocess_exec(
            self._agent,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            limit=1024 * 1024,
        )  # fmt: skip
        (workdir / "agent.pid").write_text(str(process.pid))
        self._children[spec.instance_id] = process
        handle = InstanceHandle(
            spec.instance_id, "127.0.0.1", 0, ref=process, token=spec.control_token
        )
        try:
            handle.port = await asyncio.wait_for(self._read_ready_port(process), _READY_TIMEOUT_S)
        except (TimeoutError, StartFailed) as exc:
            await self.stop(handle)
            raise StartFailed(
                f"agent for instance {spec.instance_id} did not come up: {exc}"
            ) from None
        feed = None
        if self._log_opener is not None:
            feed = await asyncio.to_thread(
                self._log_opener, spec.config.name, spec.log_stream_name, spec.instance_id
            )
        self._drains[spec.instance_id] = asyncio.create_task(
            self._drain(process, spec.instance_id, feed)
        )
        return handle

    async def _read_ready_port(self, process: asyncio.subprocess.Process) -> int:
        assert process.stdout is not None
        while True:
            line = await process.stdout.readline()
            if not line:
                raise StartFailed(f"agent exited with status {await process.wait()}")
            if b'"lambkin_agent"' in line:
                return int(json.loads(line)["control_port"])

    async def _drain(
        self, process: asyncio.subprocess.Process, instance_id: str, feed: LogFeed | None
    ) -> None:
        """Keep the agent's stdout flowing into its log feed (at the feed's pace: back-pressure);
        its end means the agent is gone."""
        assert process.stdout is not None
        try:
            while chunk := await process.stdout.read(64 * 1024):
                if feed is not None:
                    await asyncio.to_thread(feed.feed, chunk)
        finally:
            if feed is not None:
                feed.close()
        await process.wait()
        if instance_id in self._children and self._listener is not None:
            self._listener(instance_id, None)  # died on its own, not through stop()

    async def stop(self, handle: InstanceHandle) -> None:
        process = self._children.pop(handle.instance_id, None)
        if process is not None:
            _kill_session(process.pid)
            try:
                await asyncio.wait_for(process.wait(), 5.0)
            except TimeoutError:
                log.warning("agent %s did not exit after SIGKILL", handle.instance_id)
        drain = self._drains.pop(handle.instance_id, None)
        if drain is not None:
            try:
                await asyncio.wait_for(drain, _LOG_FLUSH_TIMEOUT_S)
            except (TimeoutError, asyncio.CancelledError):
                pass
        shutil.rmtree(self._instance_dir(handle.instance_id), ignore_errors=True)

    async def list_owned(self) -> list[OwnedInstance]:
        owned = []
        for pid_file in self._root.glob("*/agent.pid"):
            instance_id = pid_file.parent.name
            try:
                pid = int(pid_file.read_text())
            except (OSError, ValueError):
                continue
            if _is_our_agent(pid, instance_id):
                owned.append(OwnedInstance(instance_id, "", ref=pid))
        return owned

    async def reap_owned(self) -> int:
        owned = await self.list_owned()
        for instance in owned:
            _kill_session(instance.ref)
        for process in self._children.values():
            _kill_session(process.pid)
        self._children.clear()
        for workdir in self._root.iterdir():
            shutil.rmtree(workdir, ignore_errors=True)
        return len(owned)

    async def exit_reason(self, handle: InstanceHandle) -> str | None:
        return None
