"""The control server: the control plane's side of the agent (docs/architecture.md).

GET /health, POST /invoke (one at a time, 409 otherwise), POST /shutdown. The control plane keeps
one keep-alive connection per instance, so nothing here closes a connection on its own, except
after refusing a request that lacks the instance's token (401): nothing else happens then.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable

from .errors import Busy, Stopped
from .httpbase import Handler, Server
from .invocation import (
    DEFAULT_CONTENT_TYPE,
    InvokeRequest,
    InvokeResult,
    Outcome,
    runtime_json_header,
)
from .sandbox import Sandbox

# The caller's JSON arrives base64-encoded, so none of its bytes can end a header or the request.
CLIENT_CONTEXT_HEADER = "Lambkin-Client-Context-B64"
COGNITO_IDENTITY_HEADER = "Lambkin-Cognito-Identity-B64"
TOKEN_HEADER = "Lambkin-Token"


class ControlServer(Server):
    def __init__(
        self,
        addr: tuple[str, int],
        token: str,
        sandbox: Sandbox,
        request_shutdown: Callable[[], None],
    ) -> None:
        super().__init__(addr, ControlHandler)
        self.token = token.encode("latin-1")
        self.sandbox = sandbox
        self.request_shutdown = request_shutdown


def json_from_base64(name: str, value: str | None) -> str:
    """The JSON object a `...-B64` header carries, as the runtime gets it ("" when absent).

    ValueError when the header is not base64 of a UTF-8 JSON object."""
    if not value:
        return ""
    try:
        text = base64.b64decode(value, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError(f"{name} must be base64 of a UTF-8 JSON object") from None
    try:
        return runtime_json_header(text)
    except ValueError as exc:
        raise ValueError(f"{name} must be base64 of a UTF-8 JSON object: {exc}") from None


def result_headers(result: InvokeResult) -> list[tuple[str, str]]:
    headers = [
        ("Lambkin-Outcome", result.outcome.value),
        ("Lambkin-Duration-Ms", f"{result.duration_ms:.3f}"),
        ("Lambkin-Max-Memory-Mb", str(result.max_memory_mb)),
        ("Lambkin-Log-Tail", base64.b64encode(result.log_tail).decode()),
    ]
    if result.outcome is not Outcome.SUCCESS and result.error_type:
        headers.append(("Lambkin-Error-Type", result.error_type))
    if result.init_duration_ms is not None:
        headers.append(("Lambkin-Init-Duration-Ms", f"{result.init_duration_ms:.3f}"))
    return headers


class ControlHandler(Handler):
    server: ControlServer

    def _authorized(self) -> bool:
        offered = (self.headers.get(TOKEN_HEADER) or "").encode("latin-1")
        return hmac.compare_digest(offered, self.server.token)

    def handle_expect_100(self) -> bool:
        # No "100 Continue" for a stranger: parse_request refuses it next.
        return super().handle_expect_100() if self._authorized() else True

    def parse_request(self) -> bool:
        """Every request (any method, any path) must carry the instance's token, or it gets 401
        and the connection is closed, its body unread: nothing else happens."""
        if not super().parse_request():
            return False
        if self._authorized():
            return True
        self.close_connection = True
        self.reply_error(
            401,
            "Unauthorized",
            f"missing or wrong {TOKEN_HEADER}: this agent answers only its own control plane",
        )
        return False

    def do_GET(self) -> None:
        if self.path != "/health":
            self.reply_error(404, "NotFound", f"no route for GET {self.path}")
            return
        sandbox = self.server.sandbox
        self.reply_json(
            200,
            {
                "runtime": sandbox.state.value,
                "connections_accepted": self.server.connections_accepted,
                "invocations": sandbox.invocations,
                "max_memory_mb": sandbox.max_memory_mb(),
            },
        )

    def do_POST(self) -> None:
        payload, _ = self.read_body()
        if self.path == "/invoke":
            self._invoke(payload)
        elif self.path == "/shutdown":
            self.reply_json(200, {"status": "stopping"})
            self.server.request_shutdown()
        else:
            self.reply_error(404, "NotFound", f"no route for POST {self.path}")

    def _invoke(self, payload: bytes) -> None:
        headers = self.headers
        request_id = headers.get("Lambkin-Request-Id")
        timeout_ms = headers.get("Lambkin-Timeout-Ms", "")
        if not request_id or not timeout_ms.isdigit() or int(timeout_ms) <= 0:
            self.reply_error(
                400,
                "InvalidRequest",
                "Lambkin-Request-Id and a positive integer Lambkin-Timeout-Ms are required",
            )
            return
        try:
            client_context = json_from_base64(
                CLIENT_CONTEXT_HEADER, headers.get(CLIENT_CONTEXT_HEADER)
            )
            cognito_identity = json_from_base64(
                COGNITO_IDENTITY_HEADER, headers.get(COGNITO_IDENTITY_HEADER)
            )
        except ValueError as exc:
            self.reply_error(400, "InvalidRequest", str(exc))
            return
        request = InvokeRequest(
            request_id=request_id,
            timeout_ms=int(timeout_ms),
            payload=payload,
            content_type=headers.get("Content-Type") or DEFAULT_CONTENT_TYPE,
            function_arn=headers.get("Lambkin-Function-Arn", ""),
            trace_id=headers.get("Lambkin-Trace-Id", ""),
            client_context=client_context,
            cognito_identity=cognito_identity,
        )
        try:
            result = self.server.sandbox.invoke(request)
        except Busy:
            self.reply_error(409, "Busy", "another invocation is in flight on this instance")
            return
        except Stopped:
            self.reply_error(503, "Stopped", "the agent is shutting down")
            return
        self.reply(200, result.body, result.content_type, result_headers(result))
