"""The access layer: one ASGI middleware in front of every route.

For each request it finds the action and resource (`actions.py`), authenticates the caller by
its AWS Signature Version 4 (`sigv4.py`, against the credentials file), decides with the
caller's permissions (`permissions.py`), puts the principal on `request.state.principal`, and
records every call that changes something in the audit trail (`audit.py`). Refusals are AWS's,
in the protocol of the API asked: Lambda's rest-json (403, `x-amzn-ErrorType`) or CloudWatch
Logs' JSON 1.1 (`__type`).

Without a credentials file nothing is authenticated, and the hot Invoke path costs one
dictionary look-up and two string comparisons here. `/healthz` is always open; `/metrics` asks
for its own bearer token when one is set (Prometheus cannot sign requests).
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..actions import METRICS_PATH, PUBLIC_PATHS, Call, Protocol, needs_body, resolve_logs
from ..actions import resolve_rest as resolve_rest_call
from ..audit import AuditRecord, AuditTrail
from ..credentials import Credentials, User
from ..permissions import Permission, allows
from ..sigv4 import AuthErrorCode, AuthFailure, IncomingRequest, verify
from .functions import MAX_CODE_REQUEST

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
# What a request may be signed for: Lambda's name for its REST API and Lambkin's own routes,
# CloudWatch Logs' for `POST /`.
_SIGNING_NAMES = {Protocol.REST_JSON: frozenset({"lambda"}), Protocol.JSON_11: frozenset({"logs"})}
_INVOCATIONS_SUFFIX = "/invocations"


@dataclass(frozen=True)
class Principal:
    """Who made a request: a user of the credentials file, or anonymous (no file)."""

    name: str
    arn: str
    permissions: tuple[Permission, ...]


class Gate:
    """Authenticates requests against the credentials file and authorises their calls."""

    def __init__(
        self,
        credentials: Credentials,
        region: str,
        account_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._users: dict[str, User] = credentials.user_by_key()
        self._region = region
        self._account_id = account_id
        self._clock = clock

    def _secret(self, access_key_id: str) -> str | None:
        user = self._users.get(access_key_id)
        return user.secret_access_key if user is not None else None

    def authenticate(self, request: IncomingRequest, call: Call) -> Principal:
        key = verify(request, self._secret, _SIGNING_NAMES[call.protocol], self._clock())
        user = self._users[key]
        return Principal(user.name, user.arn(self._account_id), user.permissions)

    def authorize(self, principal: Principal, call: Call) -> None:
        if not allows(principal.permissions, call.action.kind, call.function):
            raise AuthFailure(
                AuthErrorCode.ACCESS_DENIED,
                f"User: {principal.arn} is not authorized to perform: {call.action.name} "
                f"on resource: {call.resource(self._region, self._account_id)}",
            )

    def resource(self, call: Call) -> str:
        return call.resource(self._region, self._account_id)


class AccessControl:
    """The ASGI middleware (see the module's docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        gate: Gate | None,
        audit: AuditTrail | None,
        metrics_token: str | None,
        region: str,
        account_id: str,
    ) -> None:
        self.app = app
        self.gate = gate
        self.audit = audit
        self._metrics_token = metrics_token.encode() if metrics_token else None
        self._region = region
        self._account_id = account_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        if path in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        if path == METRICS_PATH:
            await self._metrics(scope, receive, send)
            return
        if self.gate is None and (
            self.audit is None or method == "GET" or path.endswith(_INVOCATIONS_SUFFIX)
        ):
            # No credentials file: the hot path (Invoke) and every read go straight through.
            await self.app(scope, receive, send)
            return
        await self._guarded(scope, receive, send, method, path)

    async def _guarded(
        self, scope: Scope, receive: Receive, send: Send, method: str, path: str
    ) -> None:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        logs_target = next((v for k, v in headers if k == "x-amz-target"), None)
        is_logs = method == "POST" and path == "/" and logs_target is not None
        protocol = Protocol.JSON_11 if is_logs else Protocol.REST_JSON
        body: bytes | None = None
        if self.gate is not None or needs_body(method, path):
            body = await _read_body(receive, MAX_CODE_REQUEST)
            if body is None:
                too_large = f"Request must be smaller than {MAX_CODE_REQUEST} bytes."
                await _refuse(send, protocol, 413, "RequestEntityTooLargeException", too_large)
                return
        parsed = _json_object(body) if body is not None and needs_body(method, path) else None
        call = (
            resolve_logs(logs_target or "", parsed)
            if is_logs
            else resolve_rest_call(method, path, parsed)
        )
        principal = Principal(ANONYMOUS, ANONYMOUS, ())
        if self.gate is not None:
            assert body is not None
            request = IncomingRequest(
                method,
                scope.get("raw_path", path.encode()).decode("latin-1"),
                scope.get("query_string", b"").decode("latin-1"),
                headers,
                body,
            )
            try:
                principal = self.gate.authenticate(request, call)
                self.gate.authorize(principal, call)
            except AuthFailure as failure:
                if call.action.mutates:
                    refused = 403 if protocol is Protocol.REST_JSON else 400
                    self._record(principal, call, refused, scope, failure.code.value)
                await _refuse(send, protocol, None, failure.code.value, failure.message)
                return
        scope.setdefault("state", {})["principal"] = principal
        status = 500  # what the audit says when the app fails before answering
        request_id = ""

        async def send_and_watch(message: Message) -> None:
            nonlocal status, request_id
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"x-amzn-requestid":
                        request_id = value.decode("latin-1")
            await send(message)

        inner_receive = receive if body is None else _replay(body, receive)
        if not call.action.mutates or self.audit is None:
            await self.app(scope, inner_receive, send)
            return
        try:
            await self.app(scope, inner_receive, send_and_watch)
        finally:
            self._record(principal, call, status, scope, None, request_id)

    def _record(
        self,
        principal: Principal,
        call: Call,
        status: int,
        scope: Scope,
        error: str | None,
        request_id: str = "",
    ) -> None:
        if self.audit is None:
            return
        client = scope.get("client")
        self.audit.append(
            AuditRecord(
                time=time.time(),
                principal=principal.name,
                action=call.action.name,
                resource=call.resource(self._region, self._account_id),
                status=status,
                error=error,
                request_id=request_id,
                source=client[0] if client else "",
            )
        )

    async def _metrics(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._metrics_token is not None:
            presented = next(
                (v for k, v in scope["headers"] if k == b"authorization"), b""
            ).removeprefix(b"Bearer ")
            if not hmac.compare_digest(presented, self._metrics_token):
                refusal = {"message": "The metrics need the bearer token (--metrics-token)."}
                challenge = [(b"www-authenticate", b'Bearer realm="lambkin-metrics"')]
                await _send_json(send, 401, refusal, challenge)
                return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None when it is larger than `limit`."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the app will find out the same way
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the client's own messages."""
    delivered = False

    async def replayed() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(body) if body.strip() else None
    except ValueError:
        return None  # the route itself answers with the right error
    return parsed if isinstance(parsed, dict) else None


async def _refuse(
    send: Send, protocol: Protocol, status: int | None, code: str, message: str
) -> None:
    request_id = str(uuid.uuid4())
    headers = [(b"x-amzn-errortype", code.encode()), (b"x-amzn-requestid", request_id.encode())]
    if protocol is Protocol.JSON_11:
        # CloudWatch Logs (JSON 1.1) answers client errors with 400 and names the error `__type`.
        shape = {"__type": code, "message": message}
        await _send_json(send, status or 400, shape, headers, b"application/x-amz-json-1.1")
        return
    body: dict[str, str] = {"Type": "User", "Message": message, "message": message}
    await _send_json(send, status or 403, body, headers)


async def _send_json(
    send: Send,
    status: int,
    body: dict[str, str],
    headers: list[tuple[bytes, bytes]],
    content_type: bytes = b"application/json",
) -> None:
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(raw)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw})
