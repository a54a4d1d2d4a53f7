"""The Lambda Runtime API (2018-06-01) the language runtime talks to.

One small handler per route; each validates, then makes exactly one call into the sandbox.
Status codes as the contract and RIE have them: 200 on /next, 202 on every accepted POST,
400 InvalidRequestID, 403 InvalidStateTransition, 413 RequestEntityTooLarge, 404 otherwise.
"""

from __future__ import annotations

import base64
import binascii
import socket
from urllib.parse import unquote

from .errors import RuntimeApiError
from .httpbase import BodyTooLarge, Handler, Server
from .invocation import MAX_RESPONSE_BYTES
from .sandbox import Sandbox

PREFIX = "/2018-06-01/runtime"
NEXT = PREFIX + "/invocation/next"
INVOCATION = PREFIX + "/invocation/"
INIT_ERROR = PREFIX + "/init/error"
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY_TRAILER = "lambda-runtime-function-error-body"
_ACCEPTED = b'{"status":"OK"}'


class RuntimeApiServer(Server):
    def __init__(self, addr: tuple[str, int]) -> None:
        super().__init__(addr, RuntimeApiHandler)
        self.sandbox: Sandbox | None = None  # attached once the sandbox exists (it needs our port)

    @property
    def address(self) -> str:
        """What the runtime gets as AWS_LAMBDA_RUNTIME_API."""
        host = str(self.server_address[0])
        if host in ("0.0.0.0", ""):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"


class RuntimeApiHandler(Handler):
    server: RuntimeApiServer

    @property
    def sandbox(self) -> Sandbox:
        assert self.server.sandbox is not None
        return self.server.sandbox

    def do_GET(self) -> None:
        if self.path != NEXT:
            self.reply_error(404, "NotFound", f"no route for GET {self.path}")
            return
        invocation = self.sandbox.next_invocation(self._peer_connected)
        if invocation is None:
            self.close_connection = True  # stale runtime, failed init or shutdown
            return
        request = invocation.request
        self.reply(200, request.payload, request.content_type, invocation.next_headers)

    def do_POST(self) -> None:
        path = self.path
        try:
            if path.startswith(INVOCATION):
                request_id, _, action = path[len(INVOCATION) :].rpartition("/")
                if action == "response" and request_id:
                    self._response(unquote(request_id))
                    return
                if action == "error" and request_id:
                    self._error(unquote(request_id))
                    return
            elif path == INIT_ERROR:
                body, _ = self.read_body()
                self.sandbox.post_init_error(body, self.headers.get(ERROR_TYPE_HEADER))
                self.reply(202, _ACCEPTED)
                return
            self.read_body()
            self.reply_error(404, "NotFound", f"no route for POST {path}")
        except RuntimeApiError as exc:
            self.reply_error(exc.status, exc.error_type, exc.message)

    def _response(self, request_id: str) -> None:
        try:
            body, trailers = self.read_body(limit=MAX_RESPONSE_BYTES)
        except BodyTooLarge:
            self.sandbox.post_too_large(request_id)
            self.reply_error(
                413,
                "RequestEntityTooLarge",
                f"Exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
            )
            return
        error_type = trailers.get(ERROR_TYPE_HEADER.lower())
        if error_type:  # a streamed response that failed midway
            try:
                error_body = base64.b64decode(trailers.get(ERROR_BODY_TRAILER, ""))
            except (binascii.Error, ValueError):
                error_body = b""
            self.sandbox.post_error(request_id, error_body, error_type)
        else:
            self.sandbox.post_response(request_id, body, self.headers.get("Content-Type"))
        self.reply(202, _ACCEPTED)

    def _error(self, request_id: str) -> None:
        body, _ = self.read_body()
        self.sandbox.post_error(request_id, body, self.headers.get(ERROR_TYPE_HEADER))
        self.reply(202, _ACCEPTED)

    def _peer_connected(self) -> bool:
        """False once the runtime on the other end has gone (EOF or reset)."""
        try:
            return bool(self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
        except BlockingIOError:
            return True
        except OSError:
            return False
