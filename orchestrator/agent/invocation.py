"""The one in-flight invocation: accepted, then delivered to the runtime, then finished once with
an outcome. Also the error bodies the agent writes itself, worded as AWS words them.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .log_capture import timestamped_line

MAX_RESPONSE_BYTES = 6291556
DEFAULT_CONTENT_TYPE = "application/json"
_ERROR_TYPE_HEADER_RE = re.compile(r"(Runtime|Function)\.[A-Z][a-zA-Z]+")


class Outcome(enum.StrEnum):
    SUCCESS = "success"
    FUNCTION_ERROR = "function_error"
    INIT_ERROR = "init_error"
    TIMEOUT = "timeout"
    EXIT = "exit"
    RESPONSE_TOO_LARGE = "response_too_large"


@dataclass(frozen=True)
class InvokeRequest:
    request_id: str
    timeout_ms: int
    payload: bytes = b""
    content_type: str = DEFAULT_CONTENT_TYPE
    function_arn: str = ""
    trace_id: str = ""
    client_context: str = ""
    cognito_identity: str = ""


@dataclass(frozen=True)
class Ending:
    """How an invocation ended, before durations, memory and the log tail are known."""

    outcome: Outcome
    body: bytes
    content_type: str = DEFAULT_CONTENT_TYPE
    error_type: str | None = None
    notice: bytes = b""  # a log line Lambda itself would print (e.g. "... Task timed out ...")


@dataclass(frozen=True)
class InvokeResult:
    outcome: Outcome
    body: bytes
    content_type: str
    error_type: str | None
    duration_ms: float
    init_duration_ms: float | None
    max_memory_mb: int
    log_tail: bytes


@dataclass
class Invocation:
    request: InvokeRequest
    accepted_at: float  # monotonic
    delivered_at: float | None = None  # monotonic, when the runtime got the event from /next
    deadline_at: float | None = None  # monotonic, delivered_at + timeout
    init_duration_ms: float | None = None  # set when this is the first invocation after an init
    next_headers: list[tuple[str, str]] = field(default_factory=list)
    result: InvokeResult | None = None

    @property
    def request_id(self) -> str:
        return self.request.request_id

    def deliver(self, now: float, now_epoch: float, init_duration_ms: float | None) -> None:
        """The runtime receives the event: the function timeout starts now."""
        request = self.request
        self.delivered_at = now
        self.deadline_at = now + request.timeout_ms / 1000
        self.init_duration_ms = init_duration_ms
        headers = [
            ("Lambda-Runtime-Aws-Request-Id", request.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(int(now_epoch * 1000) + request.timeout_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", request.function_arn),
            ("Lambda-Runtime-Trace-Id", request.trace_id),
            ("Lambda-Runtime-Client-Context", request.client_context),
            ("Lambda-Runtime-Cognito-Identity", request.cognito_identity),
        ]
        self.next_headers = [(name, value) for name, value in headers if value]


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"{text} is beyond a double's range")
    return value


def runtime_json_header(text: str) -> str:
    """A JSON object as `Lambda-Runtime-Client-Context` and `-Cognito-Identity` carry it.

    Compact and ASCII-only (non-ASCII characters as \\u escapes), so no caller's byte can end
    the header, and a runtime client that decodes header bytes as Latin-1 (Python's http.client,
    Node.js) still parses the strings the caller sent. ValueError unless `text` is a JSON object;
    NaN, Infinity, numbers beyond a double's range and nesting too deep to parse are refused.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return json.dumps(value, separators=(",", ":"))
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _json(obj: Mapping[str, object]) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()


def error_type_of(body: bytes, header: str | None) -> str:
    """errorType from a posted error body, else the Lambda-Runtime-Function-Error-Type header."""
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        error_type = parsed.get("errorType")
        if isinstance(error_type, str) and error_type:
            return error_type
    if header and _ERROR_TYPE_HEADER_RE.fullmatch(header):
        return header
    return "Runtime.Unknown"


def posted_error(outcome: Outcome, body: bytes, header: str | None) -> Ending:
    error_type = error_type_of(body, header)
    if not body:
        body = _json({"errorType": error_type, "errorMessage": ""})
    return Ending(outcome, body, DEFAULT_CONTENT_TYPE, error_type)


def _agent_error(outcome: Outcome, error_type: str, message: str, notice: bytes) -> Ending:
    body = _json({"errorType": error_type, "errorMessage": message})
    return Ending(outcome, body, DEFAULT_CONTENT_TYPE, error_type, notice)


def timeout_ending(request_id: str, timeout_ms: int) -> Ending:
    message = f"Task timed out after {timeout_ms / 1000:.2f} seconds"
    full = f"RequestId: {request_id} Error: {message}"
    notice = timestamped_line(request_id, message)
    return _agent_error(Outcome.TIMEOUT, "Sandbox.Timedout", full, notice)


def init_timeout_ending(request_id: str, init_timeout_s: float) -> Ending:
    full = f"RequestId: {request_id} Error: Init timed out after {init_timeout_s:.2f} seconds"
    return _agent_error(Outcome.INIT_ERROR, "Sandbox.Timedout", full, full.encode() + b"\n")


def exit_ending(outcome: Outcome, request_id: str, status: str, error_type: str) -> Ending:
    """The runtime process exited: mid-invoke (`exit`) or before its first /next (`init_error`)."""
    full = f"RequestId: {request_id} Error: Runtime exited with error: {status}"
    return _agent_error(outcome, error_type, full, full.encode() + b"\n")


def entrypoint_ending(request_id: str, reason: str) -> Ending:
    """The runtime command could not even be executed."""
    full = f"RequestId: {request_id} Error: {reason}"
    return _agent_error(
        Outcome.INIT_ERROR, "Runtime.InvalidEntrypoint", full, full.encode() + b"\n"
    )


def too_large_ending() -> Ending:
    message = (
        f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
    )
    return _agent_error(Outcome.RESPONSE_TOO_LARGE, "Function.ResponseSizeTooLarge", message, b"")
