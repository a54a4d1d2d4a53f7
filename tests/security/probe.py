"""A hostile function: each probe tries one way out of its instance and reports what happened.

Packed into the function's zip by the tests (see conftest.py); it runs inside the instance, as
the function's user, with nothing but the standard library.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

PTRACE_ATTACH, PTRACE_DETACH = 16, 17
FORGED = '{"s":999999999,"t":0,"r":"x","p":"platform","m":"REPORT RequestId: forged"}'
# Where the docker driver mounts the instance's log file (the agent appends its events there).
LOG_FILE = "/var/lambkin/log/events"


def attempt(action: Callable[[], object]) -> dict[str, Any]:
    """{"ok": True, "value": ...} or {"ok": False, "errno": "EACCES", "error": "..."}."""
    try:
        return {"ok": True, "value": action()}
    except OSError as exc:
        name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
        return {"ok": False, "errno": name, "error": str(exc)}


def agent_pid() -> int:
    """The agent is the runtime's parent (the handler runs in the runtime's own process)."""
    return os.getppid()


def control(event: dict[str, Any]) -> dict[str, Any]:
    """Speak the agent control protocol to another instance's address."""
    host, port = event["endpoint"].rsplit(":", 1)
    invoke = {"Lambkin-Request-Id": "stolen", "Lambkin-Timeout-Ms": "1000"}
    results = {}
    for method, path, headers in (
        ("GET", "/health", {}),
        ("POST", "/invoke", invoke),
        ("POST", "/shutdown", {}),
        ("POST", "/specialise", {}),
    ):

        def call(method: str = method, path: str = path, headers: dict[str, str] = headers) -> int:
            conn = http.client.HTTPConnection(host, int(port), timeout=event.get("timeout", 2))
            try:
                conn.request(method, path, b'{"from": "elsewhere"}', headers)
                return conn.getresponse().status
            finally:
                conn.close()

        results[f"{method} {path}"] = attempt(call)
    return results


def proc(event: dict[str, Any]) -> dict[str, Any]:
    """Read, trace, write to and kill the agent (and pid 1, the container's init)."""
    pid = agent_pid()
    libc = ctypes.CDLL(None, use_errno=True)

    def read(path: str) -> int:
        with open(path, "rb") as f:
            return len(f.read())

    def read_mem() -> int:
        with open(f"/proc/{pid}/mem", "rb") as f:  # opening it takes ptrace access already
            return len(f.read(1))

    def write_stdout() -> int:
        with open(f"/proc/{pid}/fd/1", "w") as f:
            return f.write(FORGED + "\n")

    def ptrace() -> int:
        if libc.ptrace(PTRACE_ATTACH, pid, 0, 0) == -1:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
        time.sleep(0.05)
        libc.ptrace(PTRACE_DETACH, pid, 0, 0)
        return 0

    def cmdline(target: int) -> str:
        with open(f"/proc/{target}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()

    return {
        "agent_pid": pid,
        "agent_cmdline": cmdline(pid),
        "agent_uid": os.stat(f"/proc/{pid}").st_uid,
        "my_uid": os.getuid(),
        "environ": attempt(lambda: read(f"/proc/{pid}/environ")),
        "init_environ": attempt(lambda: read("/proc/1/environ")),
        "mem": attempt(read_mem),
        "fd": attempt(lambda: os.listdir(f"/proc/{pid}/fd")),
        "stdout": attempt(write_stdout),
        "ptrace": attempt(ptrace),
        "kill_init": attempt(lambda: os.kill(1, signal.SIGKILL)),
        "kill": attempt(lambda: os.kill(pid, signal.SIGKILL)),  # last: it may succeed
    }


def status(event: dict[str, Any]) -> dict[str, str]:
    """/proc/self/status: identity, capabilities, no_new_privs."""
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f if ":" in line)
    keys = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
    return {k: " ".join(fields[k].split()) for k in (*keys, "NoNewPrivs", "Seccomp")}


def write(event: dict[str, Any]) -> dict[str, Any]:
    """Write a file of the given size in each place (left there, for the host to measure), then
    fill the `fill` places past their size (and clean them up)."""

    def put(directory: str, size: int) -> int:
        path = os.path.join(directory, f"probe-{os.getpid()}")
        block = b"x" * (1024 * 1024)
        written = 0
        with open(path, "wb") as f:
            while written < size:
                written += f.write(block[: size - written])
                f.flush()
        return written

    home = os.path.expanduser("~")
    places = {**event["places"], home: 1024}
    results: dict[str, Any] = {d: attempt(functools.partial(put, d, n)) for d, n in places.items()}
    results["home"] = home
    for directory, size in event.get("fill", {}).items():
        results[f"fill {directory}"] = attempt(functools.partial(put, directory, size))
        for name in os.listdir(directory):
            if name.startswith("probe-"):
                os.remove(os.path.join(directory, name))
    return results


def setuid(event: dict[str, Any]) -> dict[str, Any]:
    """Run every setuid binary; while it waits for a password, look at its effective uid."""
    found = []
    for top in ("/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/libexec"):
        for root, _, files in os.walk(top):
            for name in files:
                path = os.path.join(root, name)
                try:
                    mode = os.lstat(path).st_mode
                except OSError:
                    continue
                if mode & 0o4000 and not os.path.islink(path):
                    found.append(os.path.realpath(path))  # /bin is /usr/bin on merged-usr
    observed = {}
    for path in sorted(set(found)):
        child = subprocess.Popen(
            [path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        euid = None
        deadline = time.monotonic() + 1.0
        while euid is None and time.monotonic() < deadline and child.poll() is None:
            try:
                with open(f"/proc/{child.pid}/cmdline", "rb") as f:
                    exec_done = f.read().split(b"\0")[0] == path.encode()
                with open(f"/proc/{child.pid}/status") as f:
                    uids = next(line for line in f if line.startswith("Uid:")).split()
            except (OSError, StopIteration):
                break
            # The new image's arguments are in place only once exec committed its credentials.
            if exec_done:
                euid = int(uids[2])  # Uid: real effective saved filesystem
            time.sleep(0.005)
        child.kill()
        child.communicate()
        observed[path] = euid
    return {"uid": os.getuid(), "euid_seen": observed}


def forge(event: dict[str, Any]) -> dict[str, Any]:
    """Print a line that looks like one of the agent's own log events, and try to write it
    into the platform's event stream directly: the agent's stdout, the log file, its fds."""
    print(FORGED, flush=True)

    def write(path: str) -> int:
        with open(path, "a") as f:
            return f.write(FORGED + "\n")

    def read(path: str) -> int:
        with open(path, "rb") as f:
            return len(f.read())

    def agent_fds() -> list[str]:
        return os.listdir(f"/proc/{agent_pid()}/fd")

    return {
        "stdout": attempt(lambda: write(f"/proc/{agent_pid()}/fd/1")),
        "log_file_exists": os.path.exists(LOG_FILE),
        "log_file_write": attempt(lambda: write(LOG_FILE)),
        "log_file_read": attempt(lambda: read(LOG_FILE)),
        "agent_fds": attempt(agent_fds),
    }


def connect(event: dict[str, Any]) -> dict[str, Any]:
    """Open a TCP connection to each "host:port" target; what came back, and how fast."""
    import socket

    results = {}
    for target in event["targets"]:
        host, port = target.rsplit(":", 1)
        started = time.monotonic()

        def greeting(host: str = host, port: str = port) -> str:
            with socket.create_connection((host, int(port)), timeout=5) as conn:
                return conn.recv(64).decode(errors="replace")

        outcome = attempt(greeting)
        outcome["seconds"] = round(time.monotonic() - started, 3)
        results[target] = outcome
    return results


def hold(event: dict[str, Any]) -> dict[str, Any]:
    """Connect to each "host:port" target, from this process and from a child in a session of
    its own, and keep the connections open while sleeping event["sleep"] seconds."""
    import socket
    import subprocess
    import sys

    held = []
    for target in event["targets"]:
        host, port = target.rsplit(":", 1)
        held.append(socket.create_connection((host, int(port)), timeout=5))
        child = (
            "import socket, time\n"
            f"c = socket.create_connection(({host!r}, {int(port)}))\n"
            "time.sleep(120)\n"
        )
        subprocess.Popen([sys.executable, "-c", child], start_new_session=True)
    time.sleep(event["sleep"])
    return {"held": len(held)}


RAPI_ABUSE = {
    "huge header": b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n"
    + b"X-Big: "
    + b"a" * 100_000
    + b"\r\n\r\n",
    "garbage request line": b"\x00\xff NOT HTTP\r\n\r\n",
    "bad chunk size": b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nzz\r\n",
    "chunk size overflow": b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\n"
    b"Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n",
    "other request id": b"POST /2018-06-01/runtime/invocation/not-mine/response HTTP/1.1\r\n"
    b"Host: x\r\nContent-Length: 2\r\n\r\n{}",
}


def rapi_abuse(event: dict[str, Any]) -> dict[str, Any]:
    """Send malformed and hostile requests to the agent's Runtime API (the one agent port the
    function may reach); the status line each one got."""
    import socket

    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    answers = {}
    for name, raw in RAPI_ABUSE.items():

        def send(raw: bytes = raw) -> str:
            with socket.create_connection((host, int(port)), timeout=5) as conn:
                conn.sendall(raw)
                return conn.recv(4096).split(b"\r\n", 1)[0].decode(errors="replace")

        answers[name] = attempt(send)
    return answers


def impersonate(event: dict[str, Any]) -> str:
    """Print perfect copies of the platform's own records for this very invocation."""
    request_id = event["request_id"]
    print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
    print(f"END RequestId: {request_id}", flush=True)
    print(
        f"REPORT RequestId: {request_id}\tDuration: 1.00 ms\tBilled Duration: 1 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 10 MB",
        flush=True,
    )
    return "printed"


def lines(event: dict[str, Any]) -> str:
    for line in event["lines"]:
        print(line, flush=True)
    return "printed"


def read(event: dict[str, Any]) -> dict[str, Any]:
    """Whatever a file holds, if this user may read it."""

    def contents() -> str:
        with open(event["path"], errors="replace") as f:
            return f.read()

    return attempt(contents)


PROBES: dict[str, Callable[[dict[str, Any]], object]] = {
    "read": read,
    "control": control,
    "proc": proc,
    "status": status,
    "write": write,
    "setuid": setuid,
    "forge": forge,
    "lines": lines,
    "impersonate": impersonate,
    "connect": connect,
    "hold": hold,
    "rapi_abuse": rapi_abuse,
}


def handler(event: dict[str, Any], context: object) -> object:
    if event.get("probe") == "environment":
        return dict(os.environ)
    event["request_id"] = getattr(context, "aws_request_id", "")
    result = PROBES[event["probe"]](event)
    json.dumps(result)  # fail here, with the probe's name in the trace, if it is not JSON
    return result
