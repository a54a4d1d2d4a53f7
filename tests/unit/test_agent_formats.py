"""Pure pieces of the agent: configuration, exit wording, log lines, error bodies."""

from __future__ import annotations

import base64
import json
import os
import signal

import pytest

from orchestrator.agent.config import AgentConfig, ConfigError
from orchestrator.agent.control_server import json_from_base64
from orchestrator.agent.httpbase import UnsafeHeader, response_head
from orchestrator.agent.invocation import (
    Invocation,
    InvokeRequest,
    Outcome,
    error_type_of,
    exit_ending,
    posted_error,
    timeout_ending,
    too_large_ending,
)
from orchestrator.agent.log_capture import end_line, report_line, start_line
from orchestrator.agent.memory import cgroup_candidates
from orchestrator.agent.supervisor import describe_wait_status

TOKEN = {"LAMBKIN_CONTROL_TOKEN": "t0ken"}


def test_config_defaults_and_parsing() -> None:
    config = AgentConfig.from_env({**TOKEN, "LAMBKIN_RUNTIME_CMD": '["python3", "-m", "x"]'})
    assert config.runtime_cmd == ("python3", "-m", "x")
    assert config.control_addr == ("0.0.0.0", 9002)
    assert config.runtime_api_addr == ("127.0.0.1", 9001)
    assert config.runtime_cwd == "/var/task"
    assert config.init_timeout_s == 10.0
    assert config.memory_source == "cgroup"
    assert config.function_version == "$LATEST" and config.memory_size_mb == 128
    assert config.instance_id
    assert config.control_token == "t0ken" and "t0ken" not in repr(config)
    assert config.runtime_user is None

    config = AgentConfig.from_env(
        {
            **TOKEN,
            "LAMBKIN_RUNTIME_USER": "993:990",
            "LAMBKIN_RUNTIME_CMD": '["/var/task/bootstrap"]',
            "LAMBKIN_CONTROL_ADDR": "127.0.0.1:0",
            "LAMBKIN_RUNTIME_API_ADDR": "[::1]:9101",
            "LAMBKIN_RUNTIME_ENV": '{"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512"}',
            "LAMBKIN_INIT_TIMEOUT_S": "2.5",
            "LAMBKIN_MEMORY_SOURCE": "proc",
            "LAMBKIN_INSTANCE_ID": "i-1",
        }
    )
    assert config.control_addr == ("127.0.0.1", 0)
    assert config.runtime_api_addr == ("::1", 9101)
    assert config.memory_size_mb == 512
    assert config.init_timeout_s == 2.5 and config.memory_source == "proc"
    assert config.instance_id == "i-1"
    assert config.runtime_user == (993, 990)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"LAMBKIN_RUNTIME_CMD": "[]"},
        {"LAMBKIN_RUNTIME_CMD": '"python"'},
        {"LAMBKIN_RUNTIME_CMD": '["x"]', "LAMBKIN_RUNTIME_ENV": '{"A": 1}'},
        {"LAMBKIN_RUNTIME_CMD": '["x"]', "LAMBKIN_CONTROL_ADDR": "nowhere"},
        {"LAMBKIN_RUNTIME_CMD": '["x"]', "LAMBKIN_INIT_TIMEOUT_S": "0"},
        {"LAMBKIN_RUNTIME_CMD": '["x"]', "LAMBKIN_MEMORY_SOURCE": "guess"},
        {"LAMBKIN_RUNTIME_CMD": '["x"]', "LAMBKIN_RUNTIME_USER": "993"},
        {"LAMBKIN_RUNTIME_CMD": '["x"]', "LAMBKIN_RUNTIME_USER": "sbx:990"},
    ],
)
def test_config_errors(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        AgentConfig.from_env({**TOKEN, **env})


@pytest.mark.parametrize("token", [None, "", "caf\u00e9"])
def test_config_requires_a_printable_ascii_token(token: str | None) -> None:
    env = {"LAMBKIN_RUNTIME_CMD": '["x"]'}
    if token is not None:
        env["LAMBKIN_CONTROL_TOKEN"] = token
    with pytest.raises(ConfigError, match="LAMBKIN_CONTROL_TOKEN"):
        AgentConfig.from_env(env)


def _status_of(code: str) -> int:
    """A real wait status: run a child that ends as `code` says."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        if code.startswith("exit"):
            os._exit(int(code.split()[1]))
        os.kill(os.getpid(), getattr(signal, code))
        os._exit(99)
    return os.waitpid(pid, 0)[1]


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("exit 0", "exit status 0"),
        ("exit 3", "exit status 3"),
        ("SIGKILL", "signal: killed"),
        ("SIGTERM", "signal: terminated"),
    ],
)
def test_exit_wording_is_gos(code: str, text: str) -> None:
    assert describe_wait_status(_status_of(code)) == text


def test_exit_wording_core_dump_and_segv() -> None:
    assert describe_wait_status(signal.SIGSEGV | 0x80) == "signal: segmentation fault (core dumped)"
    assert describe_wait_status(signal.SIGABRT) == "signal: aborted"


def test_log_lines_in_aws_format() -> None:
    assert start_line("r1", "$LATEST") == b"START RequestId: r1 Version: $LATEST\n"
    assert end_line("r1") == b"END RequestId: r1\n"
    assert report_line("r1", 15.734, 128, 56, 130.491) == (
        b"REPORT RequestId: r1\tDuration: 15.73 ms\tBilled Duration: 16 ms\tMemory Size: 128 MB"
        b"\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms\n"
    )
    assert report_line("r1", 2.0, 128, 56, None) == (
        b"REPORT RequestId: r1\tDuration: 2.00 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB"
        b"\tMax Memory Used: 56 MB\n"
    )


def test_error_bodies_the_agent_writes() -> None:
    timeout = timeout_ending("abc", 1000)
    assert json.loads(timeout.body) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: abc Error: Task timed out after 1.00 seconds",
    }
    assert timeout.outcome is Outcome.TIMEOUT and timeout.error_type == "Sandbox.Timedout"
    died = exit_ending(Outcome.EXIT, "abc", "exit status 3", "Runtime.ExitError")
    assert json.loads(died.body) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: abc Error: Runtime exited with error: exit status 3",
    }
    big = too_large_ending()
    assert big.error_type == "Function.ResponseSizeTooLarge"
    assert "6291556" in json.loads(big.body)["errorMessage"]


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (b'{"errorType": "ValueError", "errorMessage": "x"}', "Unhandled", "ValueError"),
        (b'{"errorMessage": "x"}', "Runtime.ImportModuleError", "Runtime.ImportModuleError"),
        (b"not json", "Function.Custom", "Function.Custom"),
        (b"not json", "Unhandled", "Runtime.Unknown"),
        (b"", None, "Runtime.Unknown"),
    ],
)
def test_error_type_from_body_then_header(body: bytes, header: str | None, expected: str) -> None:
    assert error_type_of(body, header) == expected


def test_empty_posted_error_gets_a_body() -> None:
    ending = posted_error(Outcome.FUNCTION_ERROR, b"", "Function.Oops")
    assert json.loads(ending.body) == {"errorType": "Function.Oops", "errorMessage": ""}


def test_next_headers_omit_empty_ones_and_deadline_is_epoch_ms() -> None:
    invocation = Invocation(InvokeRequest("r1", 3000, b"{}", trace_id="Root=1"), accepted_at=0.0)
    invocation.deliver(now=10.0, now_epoch=1_700_000_000.25, init_duration_ms=None)
    headers = dict(invocation.next_headers)
    assert headers == {
        "Lambda-Runtime-Aws-Request-Id": "r1",
        "Lambda-Runtime-Deadline-Ms": "1700000003250",
        "Lambda-Runtime-Trace-Id": "Root=1",
    }
    assert invocation.deadline_at == 13.0


def test_json_from_base64_headers() -> None:
    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    name = "Lambkin-Client-Context-B64"
    assert json_from_base64(name, None) == "" and json_from_base64(name, "") == ""
    assert json_from_base64(name, b64('{"k":\r\n"€"}'.encode())) == '{"k":"\\u20ac"}'
    for bad in ("not base64!", b64(b"\xff\xfe{}"), b64(b"[1]"), b64(b"{")):
        with pytest.raises(ValueError, match=name):
            json_from_base64(name, bad)


def test_cgroup_candidates_prefer_our_own_cgroup() -> None:
    v1 = "12:pids:/x\n4:memory:/docker/abc\n0::/\n"
    assert cgroup_candidates(v1) == [
        ("/sys/fs/cgroup/memory.peak", "/sys/fs/cgroup/memory.events"),
        (
            "/sys/fs/cgroup/memory/docker/abc/memory.max_usage_in_bytes",
            "/sys/fs/cgroup/memory/docker/abc/memory.oom_control",
        ),
        (
            "/sys/fs/cgroup/memory/memory.max_usage_in_bytes",
            "/sys/fs/cgroup/memory/memory.oom_control",
        ),
    ]
    v2 = "0::/system.slice/x.service\n"
    assert cgroup_candidates(v2)[0] == (
        "/sys/fs/cgroup/system.slice/x.service/memory.peak",
        "/sys/fs/cgroup/system.slice/x.service/memory.events",
    )
    assert cgroup_candidates("")[-1][0] == "/sys/fs/cgroup/memory/memory.max_usage_in_bytes"


def test_reply_head_is_the_status_then_content_headers_then_the_rest() -> None:
    head = response_head(
        202, "application/json", 16, [("Lambda-Runtime-Aws-Request-Id", "r")], True
    )
    assert head == (
        b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n"
        b"Lambda-Runtime-Aws-Request-Id: r\r\nConnection: close\r\n\r\n"
    )
    assert (
        response_head(204, None, 0, [], False)
        == b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
    )


@pytest.mark.parametrize("bad", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\0b"])
def test_reply_head_refuses_values_that_could_end_a_header(bad: str) -> None:
    with pytest.raises(UnsafeHeader):
        response_head(200, "application/json", 0, [("Lambda-Runtime-Trace-Id", bad)], False)
    with pytest.raises(UnsafeHeader):
        response_head(200, bad, 0, [], False)
