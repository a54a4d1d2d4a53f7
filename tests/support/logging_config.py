"""A function's logs under a LoggingConfig, read back from its log group with boto3.

Each runtime's LoggingConfig test (tests/integration/test_logging_config_runtimes.py) deploys a
function that logs one record per level through its language's logger, sets the function's
LoggingConfig, invokes it once and reads back exactly what landed in the log group; the
expectations (AWS's record shape for that runtime) stay in the test.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from tests.support.server import Server

ROLE = "arn:aws:iam::123456789012:role/lambda-role"


@dataclass(frozen=True)
class LoggedInvocation:
    """One invocation's log lines, in order, from the function's (custom) log group."""

    request_id: str
    lines: list[str]
    result: Any

    @property
    def records(self) -> list[dict[str, Any]]:
        """The lines that are JSON objects, parsed (the platform's and the runtime's)."""
        out: list[dict[str, Any]] = []
        for line in self.lines:
            if line.startswith("{"):
                parsed = json.loads(line)
                if isinstance(parsed, dict):
                    out.append(parsed)
        return out

    @property
    def application_records(self) -> list[dict[str, Any]]:
        """The JSON records that are not the platform's own (`platform.start`, ...)."""
        return [r for r in self.records if not str(r.get("type", "")).startswith("platform.")]


def deploy(
    server: Server,
    runtime: str,
    code: bytes,
    handler: str,
    *,
    timeout: int = 30,
    environment: dict[str, str] | None = None,
) -> str:
    lam = server.client()
    name = f"logcfg-{runtime.replace('.', '')}-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": code},
        Timeout=timeout,
        MemorySize=256,
        Environment={"Variables": environment or {}},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def invoke_with_logging(
    server: Server,
    name: str,
    logging_config: dict[str, str],
    payload: object = None,
    *,
    fails: bool = False,
) -> LoggedInvocation:
    """Set `logging_config`, invoke once, and return that invocation's lines once its REPORT
    (text or JSON) has landed; the log group is the config's LogGroup or the function's own.
    The invocation must succeed, or with `fails`, end in a function error (its document is then
    the result)."""
    lam = server.client()
    lam.update_function_configuration(FunctionName=name, LoggingConfig=logging_config)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    group = lam.get_function_configuration(FunctionName=name)["LoggingConfig"]["LogGroup"]
    response = lam.invoke(FunctionName=name, Payload=json.dumps(payload or {}))
    assert ("FunctionError" in response) == fails, response["Payload"].read()
    result = json.loads(response["Payload"].read() or b"null")
    request_id = response["ResponseMetadata"]["RequestId"]
    logs = server.client("logs")

    def lines() -> list[str]:
        try:
            found = logs.filter_log_events(logGroupName=group)["events"]
        except logs.exceptions.ResourceNotFoundException:
            return []
        return [str(e["message"]).rstrip("\n") for e in found]

    deadline = time.monotonic() + 20
    seen = lines()
    while not _reported(seen, request_id) and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = lines()
    assert _reported(seen, request_id), seen
    return LoggedInvocation(request_id, _this_invocation(seen, request_id), result)


def _reported(lines: list[str], request_id: str) -> bool:
    return any(
        (line.startswith("REPORT") or '"platform.report"' in line) and request_id in line
        for line in lines
    )


def _this_invocation(lines: list[str], request_id: str) -> list[str]:
    """From this request's START (or platform.start) to its REPORT (or platform.report)."""
    start = next(
        (i for i, line in enumerate(lines) if request_id in line and _is_start(line)), None
    )
    end = next(i for i, line in enumerate(lines) if request_id in line and _is_report(line))
    return lines[(start if start is not None else 0) : end + 1]


def _is_start(line: str) -> bool:
    return line.startswith("START") or '"platform.start"' in line


def _is_report(line: str) -> bool:
    return line.startswith("REPORT") or '"platform.report"' in line
