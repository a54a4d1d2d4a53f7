"""The agent binary (runtime-images/agent/): checked as a static, stdlib-only binary, its Go
unit tests, vet and gofmt run, and what the other agent tests (test_agent_process.py,
test_agent_log_events.py, tests/conformance/test_awslambdaric_on_agent.py) do not cover: the
control token, the runtime's user, the agent as PID 1 reaping orphans, and the client context as
the control plane validates it (orchestrator/client_context.py) against what the agent does.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.client_context import runtime_json_header
from tests.support.client_contexts import REFUSED, RENDERED
from tests.support.go_agent import AGENT_SRC, go_agent_binary, go_tool
from tests.support.go_agent import run_go as go

sys.path.insert(0, str(Path(__file__).resolve().parent / "agent_runtimes"))
from harness import RUNTIMES, AgentProcess, default_agent_argv, runtime_cmd

ORPHANS = {"PYTHONPATH": str(RUNTIMES)}
SYSTEM_PYTHON = "/usr/bin/python3"


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A working directory any user can enter (pytest's tmp_path is root's alone)."""
    with tempfile.TemporaryDirectory(prefix="lambkin-go-agent-") as name:
        os.chmod(name, 0o755)
        yield Path(name)


# -- the binary -------------------------------------------------------------------------------


def test_builds_static_from_the_standard_library_alone() -> None:
    binary = go_agent_binary()
    assert "require" not in (AGENT_SRC / "go.mod").read_text()
    listed = go("list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["lambkin.dev/agent"]  # nothing outside the stdlib
    data = binary.read_bytes()
    assert data[:4] == b"\x7fELF"
    assert b"/lib64/ld-linux" not in data and b"/lib/ld-linux" not in data  # no interpreter


def test_go_unit_tests_vet_and_gofmt() -> None:
    for args in (("vet", "./..."), ("test", "-count=1", "./...")):
        done = go(*args)
        assert done.returncode == 0, f"go {' '.join(args)}:\n{done.stdout}{done.stderr}"
    gofmt = Path(go_tool()).with_name("gofmt")
    unformatted = subprocess.run(
        [str(gofmt), "-l", "."], cwd=AGENT_SRC, capture_output=True, text=True, check=True
    )
    assert unformatted.stdout == ""


# -- the control token -------------------------------------------------------------------


def test_every_control_request_needs_the_token(open_dir: Path) -> None:
    agent = AgentProcess(runtime_cmd("scripted.py"), cwd=open_dir)
    try:
        attempts = [
            ("GET", "/health", {}),
            ("POST", "/invoke", {"Lambkin-Request-Id": "r", "Lambkin-Timeout-Ms": "1000"}),
            ("POST", "/shutdown", {}),
            ("POST", "/specialise", {}),
            ("GET", "/nowhere", {}),
            ("PUT", "/invoke", {}),
            ("GET", "/health", {"Lambkin-Token": "wrong"}),
            ("GET", "/health", {"Lambkin-Token": agent.token[:-1]}),
            ("GET", "/health", {"Lambkin-Token": agent.token + "x"}),
        ]
        for method, path, headers in attempts:
            conn = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=10)
            conn.request(method, path, b"{}", headers)
            response = conn.getresponse()
            body = json.loads(response.read())
            assert response.status == 401, (method, path)
            assert body["errorType"] == "Unauthorized"
            assert "Lambkin-Token" in body["errorMessage"]
            assert response.getheader("Connection", "").lower() == "close"
            conn.close()
        health = agent.health()  # the harness sends the token: answered
        assert health["invocations"] == 0 and health["runtime"] in ("initializing", "ready")
        assert agent.invoke({"after": "refusals"}).json() == {"after": "refusals"}
    finally:
        assert agent.close() == 0


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_no_agent(token: str | None) -> None:
    env = {"PATH": os.environ["PATH"], "LAMBKIN_RUNTIME_CMD": '["/bin/true"]'}
    if token is not None:
        env["LAMBKIN_CONTROL_TOKEN"] = token
    done = subprocess.run(
        default_agent_argv(), env=env, capture_output=True, timeout=10, check=False
    )
    assert done.returncode == 2
    assert done.stdout == b""
    assert b"LAMBKIN_CONTROL_TOKEN" in done.stderr


# -- vacant instances (orchestrator/vacancies.py) --------------------------------------------


def test_a_vacant_agent_runs_nothing_until_it_is_specialised_once(open_dir: Path) -> None:
    # Its environment names a runtime, which a vacant agent must ignore: only /specialise's counts.
    agent = AgentProcess(
        [sys.executable, "-c", "raise SystemExit('the environment's runtime ran')"],
        cwd=open_dir,
        extra_env={"LAMBKIN_VACANT": "1"},
    )
    try:
        assert agent.health()["runtime"] == "vacant"
        refused = agent.invoke({"too": "early"})
        assert refused.status == 409 and refused.json()["errorType"] == "Vacant"
        for bad in (b"", b"[]", b'{"LAMBKIN_RUNTIME_CMD": "[]"}', b'{"LAMBKIN_LOG_PATH": "/x"}'):
            answer = agent.request("POST", "/specialise", bad)
            assert answer.status == 400, bad
        time.sleep(0.2)
        assert agent.lines() == [] and agent.health()["runtime"] == "vacant"
        settings = {
            "LAMBKIN_RUNTIME_CMD": json.dumps(runtime_cmd("scripted.py")),
            "LAMBKIN_RUNTIME_ENV": json.dumps({"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}),
            "LAMBKIN_RUNTIME_CWD": str(open_dir),
            "LAMBKIN_INIT_TIMEOUT_S": "10",
        }
        taken = agent.request("POST", "/specialise", json.dumps(settings).encode())
        assert taken.status == 200, taken.body
        assert agent.invoke({"now": "served"}).json() == {"now": "served"}
        report = agent.wait_for_line(lambda line: line.startswith("REPORT"))
        assert "Memory Size: 256 MB" in report and "Init Duration" in report
        again = agent.request("POST", "/specialise", json.dumps(settings).encode())
        assert again.status == 409 and again.json()["errorType"] == "AlreadySpecialised"
        assert len(agent.runtime_pids()) == 1, "one runtime, the specialised one"
    finally:
        assert agent.close() == 0


# -- streamed responses ------------------------------------------------------------------


def test_streamed_response_and_error_trailers(open_dir: Path) -> None:
    agent = AgentProcess(runtime_cmd("streaming.py"), cwd=open_dir)
    try:
        streamed = agent.invoke("ok")
        assert streamed.outcome == "success"
        assert streamed.body == b"hello world"
        assert streamed.headers["content-type"] == "text/event-stream"
        failed = agent.invoke("fail")
        assert failed.outcome == "function_error"
        assert failed.error_type == "Function.Streamed"  # the error body's type comes first
        assert failed.json() == {"errorType": "Function.Streamed", "errorMessage": "midway"}
        agent.wait_for_line(lambda line: line.startswith("HTTP/1.1 202"))
    finally:
        assert agent.close() == 0


# -- the runtime's user (root only) ---------------------------------------------------------


@pytest.mark.skipif(os.geteuid() != 0, reason="starting a runtime as another user needs root")
def test_runtime_runs_as_the_configured_user_with_no_groups(open_dir: Path) -> None:
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        pytest.fail(f"{SYSTEM_PYTHON} missing: the host set-up installs Debian's python3")
    agent = AgentProcess(
        [SYSTEM_PYTHON, str(RUNTIMES / "orphans.py")],  # one that user 65534 may run
        ORPHANS,
        cwd=open_dir,
        extra_env={"LAMBKIN_RUNTIME_USER": "65534:65533"},
    )
    try:
        facts = agent.invoke({"cmd": "whoami"}).json()
        assert facts == {"uid": 65534, "gid": 65533, "groups": [], "pgid_is_pid": True}
    finally:
        assert agent.close() == 0


def test_runtime_runs_as_the_agents_user_by_default(open_dir: Path) -> None:
    agent = AgentProcess([sys.executable, str(RUNTIMES / "orphans.py")], ORPHANS, cwd=open_dir)
    try:
        facts = agent.invoke({"cmd": "whoami"}).json()
        assert (facts["uid"], facts["gid"]) == (os.getuid(), os.getgid())
    finally:
        assert agent.close() == 0


# -- PID 1 (Go agent) -------------------------------------------------------------------------


def assert_orphans_reaped_and_exit_status_kept(agent: AgentProcess) -> None:
    for _ in range(3):
        assert agent.invoke({"cmd": "orphan"}).json() == "orphaned"
    time.sleep(0.5)  # the grandchildren exit, re-parented to the agent
    assert agent.invoke({"cmd": "zombies"}).json() == []
    # the reaper of every child still hands the runtime's own status to the runtime's watcher
    died = agent.invoke({"cmd": "exit", "code": 3}, request_id="req-exit")
    assert died.outcome == "exit"
    assert died.json()["errorMessage"] == (
        "RequestId: req-exit Error: Runtime exited with error: exit status 3"
    )
    assert agent.invoke({"back": 1}).json() == {"back": 1}


def test_go_agent_reaps_orphans_of_the_runtime(open_dir: Path) -> None:
    """Not PID 1 (the process driver): the agent is the runtime tree's subreaper."""
    agent = AgentProcess(
        [sys.executable, str(RUNTIMES / "orphans.py")],
        ORPHANS,
        cwd=open_dir,
        agent_argv=[str(go_agent_binary())],
    )
    try:
        assert_orphans_reaped_and_exit_status_kept(agent)
    finally:
        assert agent.close() == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="a new PID namespace needs root")
def test_go_agent_as_pid_1(open_dir: Path) -> None:
    """As a container's entry point: PID 1 of its own PID namespace."""
    agent = AgentProcess(
        [sys.executable, str(RUNTIMES / "orphans.py")],
        ORPHANS,
        cwd=open_dir,
        agent_argv=[
            "unshare",
            "--pid",
            "--fork",
            "--mount-proc",
            "--kill-child",
            str(go_agent_binary()),
        ],
    )
    try:
        assert_orphans_reaped_and_exit_status_kept(agent)
        assert agent.request("POST", "/shutdown").status == 200
        assert agent.proc.wait(10) == 0
    finally:
        agent.close()


# -- the client context: the control plane's validator and the agent agree -------------------


def test_client_context_as_the_control_plane_validates_it(open_dir: Path) -> None:
    """What `client_context.runtime_json_header` makes of each text is what the runtime gets from
    the agent, byte for byte; what it refuses, the agent refuses (400 InvalidRequest)."""
    agent = AgentProcess(runtime_cmd("scripted.py"), cwd=open_dir)
    try:
        for text in [text for text, _ in RENDERED] + REFUSED:
            try:
                expected: str | None = runtime_json_header(text)
            except ValueError:
                expected = None
            header = base64.b64encode(text.encode()).decode()
            result = agent.invoke(
                {"cmd": "headers"}, headers={"Lambkin-Client-Context-B64": header}
            )
            if expected is None:
                assert result.status == 400, (text, result.body)
                assert result.json()["errorType"] == "InvalidRequest", text
            else:
                assert result.status == 200 and result.outcome == "success", (text, result.body)
                assert result.json()["headers"]["lambda-runtime-client-context"] == expected
    finally:
        assert agent.close() == 0
