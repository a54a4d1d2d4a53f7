"""The process driver: each instance is the same agent binary, run as a local process session.

The embedded default where no Docker engine answers. No isolation beyond a process session and
a private TMPDIR: memory limits are not enforced, and code that writes the literal path /tmp
shares the host's /tmp.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

from ..agent_binary import agent_binary
from ..debugging import Debugger
from ..debugpy_files import hook_folder
from ..runtimes import RUNTIMES, RuntimeSpec
from ..settings import Settings
from .base import (
    Driver,
    ExitListener,
    InstanceHandle,
    InstanceSpec,
    OwnedInstance,
    StartFailed,
    VacantSpec,
    specialisation,
)

log = logging.getLogger(__name__)

_READY_TIMEOUT_S = 10.0
_LOG_FLUSH_TIMEOUT_S = 30.0  # how long a stop waits for the last lines to reach the log feed


def _session_members(session_id: int, running_only: bool = False) -> list[int]:
    """Every process in a session: the agent, its runtime and anything the runtime spawned
    (with `running_only`, not zombies: they are dead, only not reaped yet)."""
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
            if not (running_only and fields[0] in (b"Z", b"X")):
                members.append(int(entry.name))
    return members


def _kill_session(session_id: int) -> None:
    for pid in _session_members(session_id):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def _until_gone(sessions: list[int], timeout_s: float = 5.0) -> None:
    """Wait until no process of these sessions is left (SIGKILL takes effect asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while any(_session_members(s, running_only=True) for s in sessions):
        if asyncio.get_running_loop().time() > deadline:
            log.warning("processes of sessions %s outlived SIGKILL", sessions)
            return
        await asyncio.sleep(0.02)


def _agent_settings(log_path: str) -> dict[str, str]:
    return {
        "LAMBKIN_CONTROL_ADDR": "127.0.0.1:0",
        "LAMBKIN_RUNTIME_API_ADDR": "127.0.0.1:0",
        # Instances share the host's loopback here: each gets its own X-Ray port, not :2000.
        "LAMBKIN_XRAY_DAEMON_ADDR": "127.0.0.1:0",
        "LAMBKIN_MEMORY_SOURCE": "proc",
        "LAMBKIN_LOG_PATH": log_path,
    }


def _is_our_agent(pid: int, instance_id: str) -> bool:
    """Guard against pid reuse: the process must still carry this instance's id."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return False
    return f"LAMBKIN_INSTANCE_ID={instance_id}".encode() in environ.split(b"\0")


@functools.cache
def host_version(command: tuple[str, ...]) -> str:
    """The first line a version command prints on this host (stdout or stderr), once per
    server; "" when it cannot run."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0].strip() if lines else ""


class ProcessDriver(Driver):
    name = "process"

    def __init__(self, settings: Settings, server_id: str) -> None:
        self._settings = settings
        self._server_id = server_id
        self._root = settings.instances_dir / "process"
        self._root.mkdir(parents=True, exist_ok=True)
        self.log_dir = settings.instances_dir / "logs" / "process"
        self._children: dict[str, asyncio.subprocess.Process] = {}
        self._drains: dict[str, asyncio.Task[None]] = {}
        self._listener: ExitListener | None = None
        self._agent = str(agent_binary(log.info))  # built here on first use, then cached

    async def watch(self, listener: ExitListener) -> None:
        self._listener = listener

    def available_runtimes(self) -> list[str]:
        """What this host can really run: a Python runtime under that very Python (the server's
        own); another language when its program (node, ruby, java) is on PATH, in the runtime's
        exact version (nodejs20.x wants node v20; Debian 12's nodejs18.x, ruby3.1 and java17
        take the host's as it is, see `host_any_version`), and its client is in place (Java's
        compiled jars: `lambkin images build` makes them when the host has a JDK)."""
        return sorted(r for r, spec in RUNTIMES.items() if self._runnable(spec))

    def _runnable(self, spec: RuntimeSpec) -> bool:
        if spec.python_path:
            return f"Python {sys.version_info[0]}.{sys.version_info[1]}." == spec.version_prefix
        if spec.host_binary and shutil.which(spec.host_binary) is None:
            return False
        if not spec.host_any_version and not host_version(spec.version_command).startswith(
            spec.version_prefix
        ):
            return False
        runtime_dir = self._settings.runtime_images_dir / (spec.client_dir or "")
        return all((runtime_dir / path).is_file() for path in spec.process_requires)

    def _instance_dir(self, instance_id: str) -> Path:
        return self._root / instance_id

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        command, runtime_env = self._runtime_launch(spec)
        log_path = "/dev/null"
        if self.log_files is not None:
            log_path = str(await asyncio.to_thread(self.log_files.create, spec.log_target()))
        hook = ""
        if spec.debug is not None and spec.debug.debugger is Debugger.DEBUGPY:
            hook = str(await asyncio.to_thread(hook_folder, log.info))
        # No port to publish: the debugger listens on this host's loopback itself.
        command, runtime_env, debug_settings = spec.debugged(
            command, runtime_env, "127.0.0.1", hook
        )
        env = spec.agent_environment(
            command, runtime_env, **_agent_settings(log_path), **debug_settings
        )
        return await self._spawn(spec.instance_id, env, spec.control_token)

    def _runtime_launch(self, spec: InstanceSpec) -> tuple[list[str], dict[str, str]]:
        """The runtime's command and environment: the code where the code store unpacked it."""
        if spec.runtime is None or spec.code_path is None:
            # Created under the docker driver, then this server restarted with this one.
            raise StartFailed(
                f"{spec.config.name} is a container-image function, and the process driver runs "
                "no images: restart the server with --driver docker"
            )
        workdir = self._instance_dir(spec.instance_id)
        (workdir / "tmp").mkdir(parents=True, exist_ok=True)
        task_root = str(spec.code_path)
        runtime_dir = str(self._settings.runtime_images_dir / (spec.runtime.client_dir or ""))
        # No mount namespace here: the runtimes' search paths point into the merged layers
        # where they are on this host (an empty directory of the instance's without layers, so
        # the host's own /opt never leaks in). Code naming /opt literally needs docker.
        if spec.layers_path is not None:
            opt = str(spec.layers_path)
        else:
            opt = str(workdir / "opt")
            (workdir / "opt").mkdir(exist_ok=True)
        command = spec.runtime_command(task_root, runtime_dir, opt)
        if command[0] == "python3":
            command[0] = sys.executable
        path = f"{os.environ.get('PATH', '/usr/bin:/bin')}:{opt}/bin"
        runtime_env = spec.runtime_environment(task_root, runtime_dir, path, opt)
        runtime_env["TMPDIR"] = str(workdir / "tmp")
        return command, runtime_env

    async def _spawn(self, instance_id: str, env: dict[str, str], token: str) -> InstanceHandle:
        """Start the agent; return once it said which port it listens on."""
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        workdir = self._instance_dir(instance_id)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            process = await asyncio.create_subprocess_exec(
                self._agent,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            await self._finish_log(instance_id)
            raise
        (workdir / "agent.pid").write_text(str(process.pid))
        self._children[instance_id] = process
        handle = InstanceHandle(instance_id, "127.0.0.1", 0, ref=process, token=token)
        ready: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._drains[instance_id] = asyncio.create_task(self._drain(process, instance_id, ready))
        try:
            port = await asyncio.wait_for(ready, _READY_TIMEOUT_S)
            if port is None:
                raise StartFailed(f"agent exited with status {process.returncode}")
            handle.port = port
        except (TimeoutError, StartFailed) as exc:
            await self.stop(handle)
            raise StartFailed(f"agent for instance {instance_id} did not come up: {exc}") from None
        return handle

    # -- vacant instances ------------------------------------------------------------------------

    supports_vacancies = True

    async def start_vacant(self, spec: VacantSpec) -> InstanceHandle:
        log_path = "/dev/null"
        if self.log_files is not None:
            log_path = str(await asyncio.to_thread(self.log_files.reserve, spec.instance_id))
        env = spec.agent_environment(**_agent_settings(log_path))
        return await self._spawn(spec.instance_id, env, spec.control_token)

    async def specialise(self, handle: InstanceHandle, spec: InstanceSpec) -> dict[str, str]:
        assert spec.instance_id == handle.instance_id, "a vacancy keeps its instance id"
        command, runtime_env = self._runtime_launch(spec)
        if self.log_files is not None:
            await asyncio.to_thread(self.log_files.claim, spec.log_target())
        return specialisation(
            command, runtime_env, runtime_env["LAMBDA_TASK_ROOT"], spec.init_timeout_s
        )

    async def _finish_log(self, instance_id: str) -> None:
        if self.log_files is not None:
            await asyncio.to_thread(self.log_files.finish, instance_id)

    async def _drain(
        self,
        process: asyncio.subprocess.Process,
        instance_id: str,
        ready: asyncio.Future[int | None],
    ) -> None:
        """Read the agent's stdout (its ready line, then only its own diagnostics: log events go
        to the log file) until it ends, which means the agent is gone; then finish the log."""
        assert process.stdout is not None
        pending = b""
        try:
            while chunk := await process.stdout.read(64 * 1024):
                *lines, pending = (pending + chunk).split(b"\n")
                pending = pending[-4096:]  # a diagnostic line, however long, is cut
                for line in lines:
                    self._agent_said(line, instance_id, ready)
            self._agent_said(pending, instance_id, ready)
        finally:
            if not ready.done():
                ready.set_result(None)
            await process.wait()
            await self._finish_log(instance_id)
        if instance_id in self._children and self._listener is not None:
            self._listener(instance_id, None)  # died on its own, not through stop()

    @staticmethod
    def _agent_said(line: bytes, instance_id: str, ready: asyncio.Future[int | None]) -> None:
        if not ready.done() and line.startswith(b'{"lambkin_agent"'):
            ready.set_result(int(json.loads(line)["control_port"]))
        elif text := line.decode(errors="replace").rstrip():
            log.info("agent: %s", text[:1000], extra={"instance": instance_id})

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
        """Kill every agent of ours, this run's and a crashed predecessor's, then store the log
        files nobody follows any more (once those agents are gone: nothing more is written)."""
        owned = await self.list_owned()
        sessions = [instance.ref for instance in owned]
        sessions += [process.pid for process in self._children.values()]
        for session in sessions:
            _kill_session(session)
        self._children.clear()
        await _until_gone(sessions)
        for workdir in self._root.iterdir():
            shutil.rmtree(workdir, ignore_errors=True)
        if self.log_files is not None:
            await asyncio.to_thread(self.log_files.recover)
        return len(owned)

    instances_are_host_processes = True

    def api_host_for_instances(self) -> str:
        """Instances are processes of this host: its loopback is theirs."""
        return "127.0.0.1"

    async def allow_api_port(self, port: int) -> None:
        """Nothing stands between a process and the host's ports."""

    async def exit_reason(self, handle: InstanceHandle) -> str | None:
        return None
