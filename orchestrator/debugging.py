"""Debugging a function: which debugger its runtime gets, on which port, and how it is started.

A function tagged `lambkin:debug` (value `on`, or the loopback port to use) starts each
on-demand instance with its language's debugger listening and waiting for a client before the
function's code runs, as `sam local invoke -d` does:

    python*   debugpy (PyPI), loaded by a sitecustomize hook    default port 5678
    nodejs*   node's inspector, --inspect-brk                   default port 9229
    java*     JDWP, -agentlib:jdwp=...,suspend=y                default port 5005

The port is published on the host's loopback only. While a client is attached the agent does
not count the function's timeout (runtime-images/agent/debugger.go), and the control plane
bounds such an instance by `debug_session_s` instead of the function's timeout. One instance of
a debugged function runs at a time (its port is one), so its invocations queue for it.

Pure policy: the drivers apply `debugged_launch` to the command and environment they built.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

TAG_DEBUG = "lambkin:debug"
# The agent's setting: the port whose established connections mean "a debugger is attached".
AGENT_DEBUG_PORT = "LAMBKIN_DEBUG_PORT"
# The sitecustomize hook's setting (debugpy_files.py): where debugpy listens. The hook takes it
# out of the environment, so a Python child of the function does not try the same port.
DEBUGPY_LISTEN = "LAMBKIN_DEBUGPY_LISTEN"
ENABLED_WORDS = frozenset({"on", "true", "1", "yes"})
PORT_RANGE = (1024, 65535)


class Debugger(StrEnum):
    DEBUGPY = "debugpy"
    INSPECTOR = "inspector"
    JDWP = "jdwp"


DEFAULT_PORTS = {Debugger.DEBUGPY: 5678, Debugger.INSPECTOR: 9229, Debugger.JDWP: 5005}
_BY_RUNTIME_PREFIX = (
    ("python", Debugger.DEBUGPY),
    ("nodejs", Debugger.INSPECTOR),
    ("java", Debugger.JDWP),
)


class DebugTagInvalid(ValueError):
    """The tag's value or the function cannot be debugged; the message says what to do."""


@dataclass(frozen=True)
class DebugSetup:
    debugger: Debugger
    port: int  # on the host's loopback, and the port the debugger listens on in the instance


def debugger_for(runtime: str) -> Debugger | None:
    """The debugger a zip function's runtime gets; None for the runtimes without one (and for
    image functions, whose runtime is their image's business)."""
    for prefix, debugger in _BY_RUNTIME_PREFIX:
        if runtime.startswith(prefix):
            return debugger
    return None


def _port_of(value: str, debugger: Debugger) -> int:
    word = value.strip().lower()
    if word in ENABLED_WORDS:
        return DEFAULT_PORTS[debugger]
    if not word.isdigit() or not PORT_RANGE[0] <= int(word) <= PORT_RANGE[1]:
        raise DebugTagInvalid(
            f"{TAG_DEBUG} must be 'on' or a port from {PORT_RANGE[0]} to {PORT_RANGE[1]} "
            f"(the host loopback port the debugger listens on), not {value!r}"
        )
    return int(word)


def validate_debug_tag(tags: Mapping[str, str], runtime: str) -> None:
    """Refuse a `lambkin:debug` tag the function could not honour (TagResource, CreateFunction)."""
    value = tags.get(TAG_DEBUG)
    if value is None:
        return
    debugger = debugger_for(runtime)
    if debugger is None:
        raise DebugTagInvalid(
            f"{TAG_DEBUG}: Lambkin has no debugger for "
            f"{'image functions' if not runtime else 'runtime ' + runtime}; it debugs zip "
            "functions of the python*, nodejs* and java* runtimes"
        )
    _port_of(value, debugger)


def debug_setup(tags: Mapping[str, str], runtime: str) -> DebugSetup | None:
    """The debugger an instance of this function starts with, or None (not tagged, or a value
    an older server accepted and this one does not: the function then runs undebugged)."""
    value = tags.get(TAG_DEBUG)
    if value is None:  # nearly every call, on every invocation's path: one lookup, then out
        return None
    debugger = debugger_for(runtime)
    if debugger is None:
        return None
    try:
        return DebugSetup(debugger, _port_of(value, debugger))
    except DebugTagInvalid:
        return None


def debugged_launch(
    setup: DebugSetup,
    command: list[str],
    env: Mapping[str, str],
    listen_host: str,
    python_hook_dir: str,
) -> tuple[list[str], dict[str, str]]:
    """The runtime's command and environment with the debugger listening on
    `listen_host:setup.port`, waiting for a client before the function's code runs.
    `python_hook_dir` holds debugpy and its sitecustomize hook (debugpy only)."""
    env = dict(env)
    address = f"{listen_host}:{setup.port}"
    if setup.debugger is Debugger.DEBUGPY:
        # sitecustomize runs before the runtime client imports anything; PYTHONPATH keeps the
        # runtime's own entries after the hook's folder.
        env["PYTHONPATH"] = ":".join(p for p in (python_hook_dir, env.get("PYTHONPATH")) if p)
        env[DEBUGPY_LISTEN] = address
        # The pure-Python debugpy: no compiled speed-ups to look for (and warn about).
        env.setdefault("PYDEVD_USE_CYTHON", "NO")
        env.setdefault("PYDEVD_USE_FRAME_EVAL", "NO")
        return command, env
    if setup.debugger is Debugger.INSPECTOR:
        flag = f"--inspect-brk={address}"
        if command and command[0].rsplit("/", 1)[-1] == "node":
            # On the command line, not NODE_OPTIONS: a node child of the function would inherit
            # NODE_OPTIONS and fail to bind the same port.
            return [command[0], flag, *command[1:]], env
        env["NODE_OPTIONS"] = " ".join(o for o in (flag, env.get("NODE_OPTIONS")) if o)
        return command, env
    jdwp = f"-agentlib:jdwp=transport=dt_socket,server=y,suspend=y,address={address}"
    env["JAVA_TOOL_OPTIONS"] = " ".join(o for o in (jdwp, env.get("JAVA_TOOL_OPTIONS")) if o)
    return command, env


def vscode_attach(setup: DebugSetup, local_root: str = "${workspaceFolder}") -> dict[str, object]:
    """VS Code's launch.json entry that attaches to a debugged instance, its code in
    `local_root` on this machine and at /var/task in the instance."""
    name = f"Attach to Lambkin ({setup.debugger}, port {setup.port})"
    if setup.debugger is Debugger.DEBUGPY:
        return {
            "name": name,
            "type": "debugpy",
            "request": "attach",
            "connect": {"host": "127.0.0.1", "port": setup.port},
            "pathMappings": [{"localRoot": local_root, "remoteRoot": "/var/task"}],
            "justMyCode": True,
        }
    if setup.debugger is Debugger.INSPECTOR:
        return {
            "name": name,
            "type": "node",
            "request": "attach",
            "address": "127.0.0.1",
            "port": setup.port,
            "localRoot": local_root,
            "remoteRoot": "/var/task",
        }
    return {
        "name": name,
        "type": "java",
        "request": "attach",
        "hostName": "127.0.0.1",
        "port": setup.port,
    }
