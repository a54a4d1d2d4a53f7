"""The bootstrap agent (the Go binary) as a real process, driven over real HTTP, with small real
runtimes.

Runtimes live in tests/integration/agent_runtimes/; the harness keeps ONE keep-alive connection to
the agent's control server, as the control plane does.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "agent_runtimes"))
from harness import REPO, AgentProcess, Invoked, default_agent_argv, runtime_cmd

REPORT_RE = re.compile(
    r"REPORT RequestId: (?P<id>\S+)\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms"
    r"\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: [1-9]\d* MB"
    r"(?P<init>\tInit Duration: \d+\.\d\d ms)?$"
)


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    path = tmp_path / "task"
    path.mkdir()
    return path


@pytest.fixture
def agent(task_dir: Path) -> Iterator[AgentProcess]:
    env = {"FOO": "bar", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"}
    process = AgentProcess(runtime_cmd("scripted.py"), env, cwd=task_dir)
    yield process
    assert process.close() == 0


def failing_agent(mode: str, task_dir: Path, init_timeout_s: float | None = None) -> AgentProcess:
    env = {"INIT_MODE": mode, "MARKER": str(task_dir / "marker")}
    return AgentProcess(
        runtime_cmd("failing_init.py"), env, cwd=task_dir, init_timeout_s=init_timeout_s
    )


def wait_gone(pid: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.01)
    return False


def assert_report(tail: str, request_id: str, init: bool) -> None:
    last = tail.rstrip("\n").split("\n")[-1]
    match = REPORT_RE.fullmatch(last)
    assert match, last
    assert match["id"] == request_id
    assert bool(match["init"]) is init, last


# -- success path -----------------------------------------------------------------------------


def test_ready_line_is_exact(agent: AgentProcess) -> None:
    assert (
        agent.ready_line
        == json.dumps({"lambkin_agent": "ready", "control_port": agent.port}) + "\n"
    )


def test_echo_success_then_warm(agent: AgentProcess) -> None:
    first = agent.invoke({"hello": "world"}, request_id="req-1")
    assert first.status == 200
    assert first.outcome == "success"
    assert first.json() == {"hello": "world"}
    assert first.headers["content-type"] == "application/json"
    assert "lambkin-error-type" not in first.headers
    assert float(first.headers["lambkin-duration-ms"]) >= 0
    assert int(first.headers["lambkin-max-memory-mb"]) > 0
    assert float(first.headers["lambkin-init-duration-ms"]) > 0  # the first after an init
    assert_report(first.tail, "req-1", init=True)
    assert "\tMemory Size: 256 MB\t" in first.tail  # from AWS_LAMBDA_FUNCTION_MEMORY_SIZE

    warm = agent.invoke([1, 2, 3], request_id="req-2")
    assert warm.outcome == "success" and warm.json() == [1, 2, 3]
    assert "lambkin-init-duration-ms" not in warm.headers
    assert_report(warm.tail, "req-2", init=False)
    health = agent.health()
    assert health.pop("max_memory_mb") > 0
    assert health == {"runtime": "ready", "connections_accepted": 1, "invocations": 2}


def test_next_headers_and_runtime_environment(agent: AgentProcess, task_dir: Path) -> None:
    before_ms = time.time() * 1000
    result = agent.invoke(
        {"cmd": "headers"},
        request_id="req-headers",
        timeout_ms=7000,
        headers={
            "Lambkin-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "Lambkin-Trace-Id": "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f5b0",
            # base64 of JSON with a line break: the runtime gets it compact, on one line
            "Lambkin-Client-Context-B64": base64.b64encode(b'{"custom":\r\n{"a":"b"}}').decode(),
        },
    )
    facts = result.json()
    headers = facts["headers"]
    assert headers["lambda-runtime-aws-request-id"] == "req-headers"
    deadline = int(headers["lambda-runtime-deadline-ms"])  # an int, epoch ms
    assert before_ms + 7000 - 50 <= deadline <= time.time() * 1000 + 7000 + 50
    assert headers["lambda-runtime-invoked-function-arn"].endswith(":function:f")
    assert headers["lambda-runtime-trace-id"].startswith("Root=1-")
    assert headers["lambda-runtime-client-context"] == '{"custom":{"a":"b"}}'
    assert "lambda-runtime-cognito-identity" not in headers  # empty ones are omitted
    assert headers["content-type"] == "application/json"
    assert facts["cwd"] == str(task_dir)
    assert facts["pgid_is_pid"] is True
    host, port = facts["runtime_api"].split(":")
    assert host == "127.0.0.1" and int(port) > 0
    # exactly the configured environment plus AWS_LAMBDA_RUNTIME_API and the X-Ray daemon's
    # address, as Lambda sets them (Python adds LC_CTYPE)
    keys = set(facts["env_keys"]) - {"LC_CTYPE"}
    assert keys == {
        "FOO",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_XRAY_DAEMON_ADDRESS",
        "_AWS_XRAY_DAEMON_ADDRESS",
        "_AWS_XRAY_DAEMON_PORT",
        "AWS_XRAY_CONTEXT_MISSING",
    }


def test_content_type_passes_both_ways(agent: AgentProcess) -> None:
    result = agent.invoke(raw=b"plain words", headers={"Content-Type": "text/plain"})
    assert result.outcome == "success"
    assert result.body == b"plain words"
    assert result.headers["content-type"] == "text/plain"


def test_five_megabyte_payload_echo(agent: AgentProcess) -> None:
    payload = json.dumps({"blob": "z" * (5 * 1024 * 1024)}).encode()
    result = agent.invoke(raw=payload)
    assert result.outcome == "success"
    assert result.body == payload


def test_one_connection_reused_across_fifty_invokes(agent: AgentProcess) -> None:
    for i in range(50):
        result = agent.invoke({"i": i})
        assert result.outcome == "success" and result.json() == {"i": i}
    health = agent.health()
    assert health["connections_accepted"] == 1
    assert health["invocations"] == 50


def test_max_memory_is_measured(agent: AgentProcess) -> None:
    before = int(agent.invoke({}).headers["lambkin-max-memory-mb"])
    after = int(agent.invoke({"cmd": "memory", "mb": 64}).headers["lambkin-max-memory-mb"])
    assert after >= before + 60


def test_cgroup_memory_source(task_dir: Path) -> None:
    agent = AgentProcess(
        runtime_cmd("scripted.py"), cwd=task_dir, extra_env={"LAMBKIN_MEMORY_SOURCE": "cgroup"}
    )
    try:
        result = agent.invoke({"cgroup": True})
        assert result.outcome == "success"
        assert int(result.headers["lambkin-max-memory-mb"]) > 0
    finally:
        assert agent.close() == 0


# -- logs -------------------------------------------------------------------------------------


def test_log_tail_holds_start_printed_lines_end_report(agent: AgentProcess) -> None:
    result = agent.invoke(
        {"cmd": "print", "lines": ["line one", "line two", "to stderr"]}, request_id="req-log"
    )
    assert result.outcome == "success"
    lines = result.tail.rstrip("\n").split("\n")
    assert lines[0] == "START RequestId: req-log Version: $LATEST"
    assert lines[1:4] == ["line one", "line two", "to stderr"]  # stdout and stderr, in order
    assert lines[-2] == "END RequestId: req-log"
    assert_report(result.tail, "req-log", init=True)
    assert "scripted runtime init" not in result.tail  # init output belongs to init

    # the agent's stdout: init line, then START ... END, REPORT, in order
    agent.wait_for_line(lambda line: line.startswith("REPORT RequestId: req-log"))
    out = agent.lines()
    init = next(i for i, line in enumerate(out) if "scripted runtime init" in line)
    start = out.index("START RequestId: req-log Version: $LATEST")
    assert init < start < out.index("line one") < out.index("END RequestId: req-log")


def test_log_tail_is_the_last_4096_bytes(agent: AgentProcess) -> None:
    lines = [f"{i:04d} " + "y" * 95 for i in range(200)]
    result = agent.invoke({"cmd": "print", "lines": lines}, request_id="req-long")
    raw_tail = result.tail.encode()
    assert len(raw_tail) == 4096
    assert "START RequestId" not in result.tail  # cut off: only the last 4 KB travel
    assert_report(result.tail, "req-long", init=True)


# -- errors -----------------------------------------------------------------------------------


def test_function_error(agent: AgentProcess) -> None:
    result = agent.invoke({"cmd": "error"}, request_id="req-err")
    assert result.status == 200
    assert result.outcome == "function_error"
    assert result.error_type == "ValueError"
    assert result.json() == {
        "errorMessage": "boom",
        "errorType": "ValueError",
        "stackTrace": ["line 1"],
    }
    assert_report(result.tail, "req-err", init=True)
    # errorType falls back to the Lambda-Runtime-Function-Error-Type header
    fallback = agent.invoke({"cmd": "error", "header": "Function.Custom"})
    assert fallback.outcome == "function_error"
    assert fallback.error_type == "Function.Custom"
    assert fallback.body == b"not json"
    assert agent.invoke({"after": "errors"}).outcome == "success"


def test_timeout_kills_and_next_invoke_reinits(agent: AgentProcess) -> None:
    assert agent.invoke({}).outcome == "success"
    first_pid = agent.runtime_pids()[0]
    started = time.monotonic()
    result = agent.invoke({"cmd": "sleep", "seconds": 30}, request_id="req-slow", timeout_ms=300)
    elapsed = time.monotonic() - started
    assert result.outcome == "timeout"
    assert result.error_type == "Sandbox.Timedout"
    assert result.json() == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: req-slow Error: Task timed out after 0.30 seconds",
    }
    assert 0.3 <= elapsed < 1.5
    assert 300 <= float(result.headers["lambkin-duration-ms"]) < 1000
    assert "sleeping 30" in result.tail
    assert "req-slow Task timed out after 0.30 seconds" in result.tail
    assert "END RequestId: req-slow" in result.tail
    assert_report(result.tail, "req-slow", init=False)
    with pytest.raises(ProcessLookupError):
        os.kill(first_pid, 0)  # killed and reaped

    again = agent.invoke({"back": True}, request_id="req-after")
    assert again.outcome == "success" and again.json() == {"back": True}
    assert float(again.headers["lambkin-init-duration-ms"]) > 0
    assert_report(again.tail, "req-after", init=True)
    assert len(agent.runtime_pids()) == 2


def test_runtime_exit_mid_invoke_then_next_invoke_works(agent: AgentProcess) -> None:
    result = agent.invoke({"cmd": "exit", "code": 3}, request_id="req-exit")
    assert result.outcome == "exit"
    assert result.error_type == "Runtime.ExitError"
    assert result.json() == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-exit Error: Runtime exited with error: exit status 3",
    }
    assert "exiting with 3" in result.tail
    assert "END RequestId: req-exit" in result.tail
    again = agent.invoke({"fine": 1})
    assert again.outcome == "success" and again.json() == {"fine": 1}
    assert "lambkin-init-duration-ms" in again.headers


def test_runtime_killed_while_idle_is_restarted(agent: AgentProcess) -> None:
    assert agent.invoke({}).outcome == "success"
    # Its stdout is read by another thread: wait for the line rather than race it.
    agent.wait_for_line(lambda line: " init pid=" in line)
    first = agent.runtime_pids()[0]
    os.kill(first, signal.SIGKILL)
    agent.wait_for_line(lambda line: " init pid=" in line and f"pid={first}" not in line)
    result = agent.invoke({"ok": 1})
    assert result.outcome == "success"
    assert "lambkin-init-duration-ms" in result.headers


def test_response_too_large(agent: AgentProcess) -> None:
    result = agent.invoke({"cmd": "big", "size": 6291557})
    assert result.outcome == "response_too_large"
    assert result.error_type == "Function.ResponseSizeTooLarge"
    assert result.json()["errorType"] == "Function.ResponseSizeTooLarge"
    assert agent.invoke({"cmd": "big_report"}).json() == {"big_status": 413}
    # exactly at the limit is fine
    at_limit = agent.invoke({"cmd": "big", "size": 6291556})
    assert at_limit.outcome == "success"
    assert at_limit.headers["content-type"] == "text/plain"
    assert len(at_limit.body) == 6291556
    assert agent.invoke({"cmd": "big_report"}).json() == {"big_status": 202}


def test_runtime_api_error_codes(agent: AgentProcess) -> None:
    result = agent.invoke({"cmd": "probe"}, request_id="req-probe")
    assert result.outcome == "success" and result.json() == "probed"
    assert agent.invoke({"cmd": "probe_report"}).json() == {
        "second_next_id": "req-probe",  # a second /next mid-invocation returns the same event
        "wrong_id": 400,
        "wrong_id_error": 400,
        "first": 202,
        "second": 403,
        "error_after": 403,
        "init_error_late": 403,
        "unknown_path": 404,
    }


# -- init failures ----------------------------------------------------------------------------


def test_init_error_posted_then_lazy_restart(task_dir: Path) -> None:
    agent = failing_agent("post", task_dir)
    try:
        assert agent.wait_for_state("failed")["runtime"] == "failed"  # no crash loop
        time.sleep(0.2)
        assert len(agent.runtime_pids()) == 1
        result = agent.invoke({}, request_id="req-init")
        assert result.status == 200
        assert result.outcome == "init_error"
        assert result.error_type == "Runtime.ImportModuleError"
        assert (
            result.json()["errorMessage"] == "Unable to import module 'app': No module named 'app'"
        )
        assert float(result.headers["lambkin-init-duration-ms"]) > 0
        assert len(agent.runtime_pids()) == 2  # restarted lazily for this invoke
        tail = result.tail
        assert tail.startswith("START RequestId: req-init Version: $LATEST\n")
        assert "init trouble ahead" in tail  # the failed init's output is this invocation's
        assert "Status: error\tError Type: Runtime.ImportModuleError" in tail
        assert "END RequestId: req-init" in tail
        assert_report(tail, "req-init", init=True)
        assert agent.health()["runtime"] == "failed"
    finally:
        assert agent.close() == 0


def test_init_error_type_from_header(task_dir: Path) -> None:
    agent = failing_agent("header", task_dir)
    try:
        result = agent.invoke({})
        assert result.outcome == "init_error"
        assert result.error_type == "Runtime.UserCodeSyntaxError"
        assert result.body == b"not json"
    finally:
        agent.close()


def test_exit_before_first_next_is_an_init_error(task_dir: Path) -> None:
    agent = failing_agent("exit", task_dir)
    try:
        result = agent.invoke({}, request_id="req-x")
        assert result.outcome == "init_error"
        assert result.error_type == "Runtime.ExitError"
        assert result.json() == {
            "errorType": "Runtime.ExitError",
            "errorMessage": "RequestId: req-x Error: Runtime exited with error: exit status 1",
        }
    finally:
        agent.close()


def test_init_timeout(task_dir: Path) -> None:
    agent = failing_agent("hang", task_dir, init_timeout_s=0.4)
    try:
        started = time.monotonic()
        result = agent.invoke({}, request_id="req-hang")
        assert result.outcome == "init_error"
        assert result.error_type == "Sandbox.Timedout"
        assert "Init timed out after 0.40 seconds" in result.json()["errorMessage"]
        assert time.monotonic() - started < 2.0
        assert wait_gone(agent.runtime_pids()[-1])  # killed in the background
    finally:
        agent.close()


def test_init_fails_once_then_succeeds(task_dir: Path) -> None:
    agent = failing_agent("once", task_dir)
    try:
        assert agent.wait_for_state("failed")["runtime"] == "failed"  # the eager start failed
        result = agent.invoke({"n": 2})
        assert result.outcome == "success" and result.json() == {"n": 2}
        assert (task_dir / "marker").exists()
    finally:
        agent.close()


def test_missing_runtime_binary(task_dir: Path) -> None:
    agent = AgentProcess(["/nonexistent/bootstrap"], cwd=task_dir)
    try:
        result = agent.invoke({}, request_id="req-nobin")
        assert result.outcome == "init_error"
        assert result.error_type == "Runtime.InvalidEntrypoint"
        assert result.json()["errorMessage"] == (
            "RequestId: req-nobin Error: "
            "fork/exec /nonexistent/bootstrap: no such file or directory"
        )
    finally:
        agent.close()


# -- control protocol -------------------------------------------------------------------------


def test_concurrent_invoke_gets_409(agent: AgentProcess) -> None:
    assert agent.invoke({}).outcome == "success"
    results: list[Invoked] = []
    slow = threading.Thread(
        target=lambda: results.append(agent.invoke({"cmd": "sleep", "seconds": 0.5}))
    )
    slow.start()
    agent.wait_for_line(lambda line: line == "sleeping 0.5")
    other = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=10)
    other.request(
        "POST",
        "/invoke",
        b"{}",
        {"Lambkin-Request-Id": "r2", "Lambkin-Timeout-Ms": "1000", "Lambkin-Token": agent.token},
    )
    second = other.getresponse()
    assert json.loads(second.read())["errorType"] == "Busy"
    other.close()
    slow.join()
    assert second.status == 409
    assert results[0].outcome == "success"


def test_invoke_requires_request_id_and_timeout(agent: AgentProcess) -> None:
    missing = agent.request("POST", "/invoke", b"{}", {"Lambkin-Timeout-Ms": "1000"})
    assert missing.status == 400
    bad = agent.request(
        "POST", "/invoke", b"{}", {"Lambkin-Request-Id": "r", "Lambkin-Timeout-Ms": "x"}
    )
    assert bad.status == 400
    assert agent.request("GET", "/nowhere").status == 404
    assert agent.invoke({"still": "fine"}).outcome == "success"
    assert agent.health()["connections_accepted"] == 1


@pytest.mark.parametrize("token", [None, "", "wrong", "x" * 64])
def test_a_request_without_the_token_gets_401_and_does_nothing(
    agent: AgentProcess, token: str | None
) -> None:
    assert agent.invoke({"cmd": "print", "lines": ["first"]}).outcome == "success"
    headers = {} if token is None else {"Lambkin-Token": token}
    invoke = {"Lambkin-Request-Id": "stranger", "Lambkin-Timeout-Ms": "1000", **headers}
    for method, path, extra in [
        ("GET", "/health", headers),
        ("POST", "/invoke", invoke),
        ("POST", "/shutdown", headers),
        ("GET", "/nowhere", headers),
        ("PUT", "/invoke", headers),
    ]:
        stranger = http.client.HTTPConnection("127.0.0.1", agent.port, timeout=10)
        stranger.request(method, path, b"{}", extra)
        response = stranger.getresponse()
        body = json.loads(response.read())
        stranger.close()
        assert response.status == 401, (method, path)
        assert body["errorType"] == "Unauthorized" and body["errorMessage"]
    assert agent.proc.poll() is None, "still running: /shutdown was refused"
    assert not any("stranger" in line for line in agent.lines())
    health = agent.health()
    assert health["invocations"] == 1 and health["runtime"] == "ready"
    assert agent.invoke({"still": "fine"}).outcome == "success"


def test_shutdown_stops_runtime_and_exits_zero(agent: AgentProcess) -> None:
    assert agent.invoke({}).outcome == "success"
    pid = agent.runtime_pids()[0]
    response = agent.request("POST", "/shutdown")
    assert response.status == 200
    assert agent.proc.wait(5) == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_sigterm_stops_runtime_and_exits_zero(agent: AgentProcess) -> None:
    assert agent.invoke({}).outcome == "success"
    pid = agent.runtime_pids()[0]
    agent.proc.send_signal(signal.SIGTERM)
    assert agent.proc.wait(5) == 0
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_bad_configuration_exits_2(task_dir: Path) -> None:
    done = subprocess.run(
        default_agent_argv(),
        cwd=REPO,
        env={"PATH": os.environ["PATH"], "LAMBKIN_RUNTIME_CMD": "not json"},
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert done.returncode == 2
    assert b"LAMBKIN_RUNTIME_CMD" in done.stderr
