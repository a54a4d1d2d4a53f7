"""AWS's own Python runtime client (awslambdaric) against our agent's Runtime API.

awslambdaric is the truth: where it and our reading of the contract disagree, it wins.
"""

from __future__ import annotations

import base64
import json
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.oracles import awslambdaric_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "agent_runtimes"))
from harness import AgentProcess

APP = textwrap.dedent(
    """
    import os
    import time

    print("app module imported", flush=True)


    def handler(event, context):
        if isinstance(event, dict) and event.get("raise"):
            raise ValueError("handler went wrong: " + event["raise"])
        if isinstance(event, dict) and "size" in event:
            return "x" * event["size"]
        if isinstance(event, dict) and event.get("context"):
            return {
                "aws_request_id": context.aws_request_id,
                "remaining_ms": context.get_remaining_time_in_millis(),
                "function_arn": context.invoked_function_arn,
                "function_name": context.function_name,
                "memory_limit_in_mb": context.memory_limit_in_mb,
                "client_context_custom": (
                    context.client_context.custom if context.client_context else None
                ),
                "trace_env": os.environ.get("_X_AMZN_TRACE_ID"),
                "cognito_identity_id": context.identity.cognito_identity_id,
                "now_ms": int(time.time() * 1000),
            }
        print("handling", context.aws_request_id, flush=True)
        return {"echo": event}
    """
)

RUNTIME_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "conformance",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/conformance",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/27/[$LATEST]test",
    "AWS_REGION": "us-east-1",
    "LAMBDA_TASK_ROOT": "/var/task",
}


@pytest.fixture(scope="module")
def ric_dir() -> Path:
    return awslambdaric_dir()


def start_agent(ric_dir: Path, task_dir: Path, handler: str) -> AgentProcess:
    env = dict(RUNTIME_ENV, PYTHONPATH=f"{task_dir}:{ric_dir}", _HANDLER=handler)
    return AgentProcess([sys.executable, "-m", "awslambdaric", handler], env, cwd=task_dir)


@pytest.fixture
def agent(ric_dir: Path, tmp_path: Path) -> Iterator[AgentProcess]:
    (tmp_path / "app.py").write_text(APP)
    process = start_agent(ric_dir, tmp_path, "app.handler")
    yield process
    assert process.close() == 0


def test_success_echo(agent: AgentProcess) -> None:
    first = agent.invoke({"a": [1, 2]}, request_id="ric-1")
    assert first.outcome == "success", first.body
    assert first.json() == {"echo": {"a": [1, 2]}}
    assert "lambkin-init-duration-ms" in first.headers
    assert "handling ric-1" in first.tail
    assert "app module imported" not in first.tail  # printed during init
    for i in range(5):
        warm = agent.invoke({"i": i})
        assert warm.outcome == "success" and warm.json() == {"echo": {"i": i}}
        assert "lambkin-init-duration-ms" not in warm.headers
    assert agent.health()["connections_accepted"] == 1


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_context_matches_the_invocation(agent: AgentProcess) -> None:
    sent_ms = int(time.time() * 1000)
    result = agent.invoke(
        {"context": True},
        request_id="ric-ctx",
        timeout_ms=5000,
        headers={
            "Lambkin-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:conformance",
            "Lambkin-Trace-Id": "Root=1-5e1b4151-5ac6c58f5b5daa6532e4f5b0;Parent=1;Sampled=1",
            "Lambkin-Client-Context-B64": b64('{"custom": {"k": "€"}, "env": {}, "client": {}}'),
            "Lambkin-Cognito-Identity-B64": b64(
                '{"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "p"}'
            ),
        },
    )
    assert result.outcome == "success", result.body
    ctx = result.json()
    assert ctx["aws_request_id"] == "ric-ctx"
    remaining = ctx["remaining_ms"]
    elapsed = ctx["now_ms"] - sent_ms
    assert 5000 - elapsed - 100 <= remaining <= 5000
    assert ctx["function_arn"] == "arn:aws:lambda:us-east-1:000000000000:function:conformance"
    assert ctx["function_name"] == "conformance"
    assert str(ctx["memory_limit_in_mb"]) == "256"
    assert ctx["client_context_custom"] == {"k": "€"}  # non-ASCII reaches awslambdaric intact
    assert ctx["cognito_identity_id"] == "id-1"
    assert ctx["trace_env"].startswith("Root=1-5e1b4151")


def test_five_megabyte_echo_and_too_large_response(agent: AgentProcess) -> None:
    payload = json.dumps({"blob": "z" * (5 * 1024 * 1024)}).encode()
    echoed = agent.invoke(raw=payload)  # curl sends Expect: 100-continue for big bodies
    assert echoed.outcome == "success" and echoed.json() == {"echo": json.loads(payload)}
    big = agent.invoke({"size": 7_000_000}, request_id="ric-big")
    assert big.outcome == "response_too_large"
    assert big.error_type == "Function.ResponseSizeTooLarge"
    assert "END RequestId: ric-big" in big.tail
    # awslambdaric treats the 413 as fatal and exits; the agent restarts it at once
    after = agent.invoke({"after": 1})
    assert after.outcome == "success" and after.json() == {"echo": {"after": 1}}
    assert "lambkin-init-duration-ms" in after.headers


def test_raised_exception_is_a_function_error(agent: AgentProcess) -> None:
    result = agent.invoke({"raise": "on purpose"}, request_id="ric-err")
    assert result.status == 200
    assert result.outcome == "function_error"
    assert result.error_type == "ValueError"
    body = result.json()
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "handler went wrong: on purpose"
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]
    assert "ValueError" in result.tail  # awslambdaric logs the error during the invocation
    after = agent.invoke({"ok": True})
    assert after.outcome == "success" and after.json() == {"echo": {"ok": True}}


def test_missing_module_is_an_import_module_error(ric_dir: Path, tmp_path: Path) -> None:
    agent = start_agent(ric_dir, tmp_path, "missing_module.handler")
    try:
        result = agent.invoke({}, request_id="ric-init")
        assert result.status == 200
        assert result.outcome == "init_error"
        assert result.error_type == "Runtime.ImportModuleError"
        body = result.json()
        assert body["errorType"] == "Runtime.ImportModuleError"
        assert body["errorMessage"].startswith("Unable to import module 'missing_module'")
        assert "Runtime.ImportModuleError" in result.tail
        assert agent.health()["runtime"] == "failed"
        again = agent.invoke({}, request_id="ric-init-2")  # lazily re-initialised, fails again
        assert again.outcome == "init_error" and again.error_type == "Runtime.ImportModuleError"
    finally:
        assert agent.close() == 0


def test_missing_handler_function_is_a_handler_not_found(ric_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    agent = start_agent(ric_dir, tmp_path, "app.nope")
    try:
        result = agent.invoke({})
        assert result.outcome == "init_error"  # awslambdaric 4.x checks the function at init
        assert result.error_type == "Runtime.HandlerNotFound"
        assert result.json()["errorMessage"] == "Handler 'nope' missing on module 'app'"
    finally:
        agent.close()
