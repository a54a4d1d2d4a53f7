"""The client of the Lambda Runtime API (2018-06-01).

One persistent HTTP/1.1 connection, opened on first use, with no socket timeout: `/next` is a
long poll that may last for hours. A connection the server dropped between two requests is
re-opened once; anything else that goes wrong with the connection is fatal to the runtime.
"""

from __future__ import annotations

import http.client
import json

TYPE_CHECKING = False  # as typing.TYPE_CHECKING; importing typing costs start-up time

if TYPE_CHECKING:
    from typing import Any

ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_PREFIX = "/2018-06-01/runtime"
_NEXT = _PREFIX + "/invocation/next"
_RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class RuntimeApiError(Exception):
    """The Runtime API answered with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: bytes) -> None:
        super().__init__(
            f"{method} {path}: expected a 2xx status, got {status}: "
            f"{body[:300].decode('utf-8', 'replace')}"
        )
        self.status = status


class Invocation:
    """One event from `/next`: the body and the headers that describe it."""

    __slots__ = (
        "request_id",
        "deadline_ms",
        "invoked_function_arn",
        "trace_id",
        "client_context",
        "cognito_identity",
        "tenant_id",
        "content_type",
        "body",
    )

    def __init__(self, response: http.client.HTTPResponse, body: bytes) -> None:
        headers = response.headers
        self.request_id: str = headers.get("Lambda-Runtime-Aws-Request-Id") or ""
        deadline = headers.get("Lambda-Runtime-Deadline-Ms")
        self.deadline_ms = int(deadline) if deadline else 0
        self.invoked_function_arn: str | None = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.trace_id: str | None = headers.get("Lambda-Runtime-Trace-Id")
        self.client_context: str | None = headers.get("Lambda-Runtime-Client-Context")
        self.cognito_identity: str | None = headers.get("Lambda-Runtime-Cognito-Identity")
        self.tenant_id: str | None = headers.get("Lambda-Runtime-Aws-Tenant-Id")
        self.content_type: str | None = headers.get("Content-Type")
        self.body = body


class RuntimeApiClient:
    def __init__(self, address: str) -> None:
        # timeout=None explicitly: user code calling socket.setdefaulttimeout() must not put a
        # deadline on our long poll.
        self._connection = http.client.HTTPConnection(address, timeout=None)

    def next_invocation(self) -> Invocation:
        response, body = self._call("GET", _NEXT, None, {})
        if response.status != 200:
            raise RuntimeApiError("GET", _NEXT, response.status, body)
        if not response.headers.get("Lambda-Runtime-Aws-Request-Id"):
            raise RuntimeApiError(
                "GET", _NEXT, response.status, b"no Lambda-Runtime-Aws-Request-Id"
            )
        return Invocation(response, body)

    def post_response(self, request_id: str, body: bytes, content_type: str) -> None:
        self._post(
            f"{_PREFIX}/invocation/{request_id}/response", body, {"Content-Type": content_type}
        )

    def post_error(self, request_id: str, error: dict[str, Any]) -> None:
        self._post(f"{_PREFIX}/invocation/{request_id}/error", *_error_payload(error))

    def post_init_error(self, error: dict[str, Any]) -> None:
        self._post(f"{_PREFIX}/init/error", *_error_payload(error))

    def close(self) -> None:
        self._connection.close()

    def _post(self, path: str, body: bytes, headers: dict[str, str]) -> None:
        response, answer = self._call("POST", path, body, headers)
        if not 200 <= response.status < 300:
            raise RuntimeApiError("POST", path, response.status, answer)

    def _call(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[http.client.HTTPResponse, bytes]:
        connection = self._connection
        try:
            connection.request(method, path, body, headers)
            response = connection.getresponse()
            return response, response.read()
        except _RETRYABLE:  # the server closed the kept-alive connection: reconnect, once
            connection.close()
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response, response.read()


def _error_payload(error: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    headers = {
        "Content-Type": "application/json",
        ERROR_TYPE_HEADER: str(error.get("errorType", "")),
    }
    return json.dumps(error).encode(), headers
