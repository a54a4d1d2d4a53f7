"""The access layer: one ASGI middleware in front of every route.

For each request it finds the action and resource (`actions.py`), authenticates the caller by
its AWS Signature Version 4 (`sigv4.py`, against the credentials file), decides with the
caller's permissions (`permissions.py`), puts the principal on `request.state.principal`, and
records every call that changes something in the audit trail (`audit.py`). Refusals are AWS's,
in the protocol of the API asked: Lambda's rest-json (403, `x-amzn-ErrorType`) or CloudWatch
Logs' JSON 1.1 (`__type`).

Without a credentials file nothing is authenticated (the principal is `anonymous`), and the hot
Invoke path costs a few dictionary operations and string comparisons here (~0.3 us). `/healthz`
is always open; `/metrics` asks for its own bearer token when one is set (Prometheus cannot sign
requests).
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

from ..actions import (
    METRICS_PATH,
    PUBLIC_PATHS,
    Call,
    Protocol,
    is_console_path,
    needs_body,
    resolve_logs,
)
from ..actions import resolve_rest as resolve_rest_call
from ..audit import AuditRecord, AuditTrail
from ..credentials import Credentials, User
from ..function_credentials import (
    ExpiredSessionToken,
    FunctionCredentials,
    InvalidSessionToken,
    Session,
)
from ..permissions import Permission, allows
from ..sigv4 import (
    EXPIRED_TOKEN_MESSAGE,
    AuthErrorCode,
    AuthFailure,
    IncomingRequest,
    parse_authorization,
    verify,
)
from .functions import MAX_CODE_REQUEST

log = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
# What a request may be signed for: Lambda's name for its REST API and Lambkin's own routes,
# CloudWatch Logs' for `POST /`.
_SIGNING_NAMES = {Protocol.REST_JSON: frozenset({"lambda"}), Protocol.JSON_11: frozenset({"logs"})}
_INVOCATIONS_SUFFIX = "/invocations"
_READS = ("GET", "HEAD")


@dataclass(frozen=True)
class Principal:
    """Who made a request: a user of the credentials file, or anonymous (no file)."""

    name: str
    arn: str
    permissions: tuple[Permission, ...]
    access_key_id: str = ""


ANONYMOUS_PRINCIPAL = Principal(ANONYMOUS, ANONYMOUS, ())


class Gate:
    """Authenticates requests against the credentials file (users) and the functions'
    temporary credentials (their roles' sessions), and authorises their calls."""

    def __init__(
        self,
        credentials: Credentials,
        region: str,
        account_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sessions: FunctionCredentials | None = None,
    ) -> None:
        self._users: dict[str, User] = credentials.user_by_key()
        self._roles = {role.arn: role.permissions for role in credentials.roles}
        self._region = region
        self._account_id = account_id
        self._clock = clock
        self._sessions = sessions

    def _secret(self, access_key_id: str) -> str | None:
        user = self._users.get(access_key_id)
        return user.secret_access_key if user is not None else None

    def authenticate(self, request: IncomingRequest, call: Call) -> Principal:
        services = _SIGNING_NAMES[call.protocol]
        token = request.header("x-amz-security-token")
        if token is not None and self._sessions is not None:
            return self._authenticate_session(request, services, token, self._sessions)
        key = verify(request, self._secret, services, self._clock())
        user = self._users[key]
        return Principal(user.name, user.arn(self._account_id), user.permissions, key)

    def _authenticate_session(
        self,
        request: IncomingRequest,
        services: frozenset[str],
        token: str,
        sessions: FunctionCredentials,
    ) -> Principal:
        """A function calling with its role's temporary credentials (function_credentials.py):
        the token names the session and gives the secret the signature must use."""
        found: list[Session] = []

        def secret_for(access_key_id: str) -> str | None:
            try:
                session, secret = sessions.verify(access_key_id, token)
            except InvalidSessionToken:
                return None  # AWS's answer to a token it did not issue: UnrecognizedClient
            except ExpiredSessionToken:
                raise AuthFailure(AuthErrorCode.EXPIRED_TOKEN, EXPIRED_TOKEN_MESSAGE) from None
            found.append(session)
            return secret

        key = verify(request, secret_for, services, self._clock())
        session = found[0]
        return Principal(
            f"{session.role_arn.rsplit('/', 1)[-1]}/{session.function_name}",
            session.principal_arn(self._account_id),
            self._roles.get(session.role_arn, ()),  # a role the file does not name may do nothing
            key,
        )

    def authorize(self, principal: Principal, call: Call) -> None:
        if not allows(principal.permissions, call.action.kind, call.named):
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
        if path in PUBLIC_PATHS or is_console_path(path):
            await self.app(scope, receive, send)
            return
        if path == METRICS_PATH:
            await self._metrics(scope, receive, send)
            return
        if self.gate is None:
            scope.setdefault("state", {})["principal"] = ANONYMOUS_PRINCIPAL
            if self.audit is None or method in _READS or path.endswith(_INVOCATIONS_SUFFIX):
                # No credentials file: the hot path (Invoke) and every read go straight through.
                await self.app(scope, receive, send)
                return
            await self._open(scope, receive, send, method, path)
            return
        await self._authenticated(scope, receive, send, self.gate, method, path)

    async def _open(
        self, scope: Scope, receive: Receive, send: Send, method: str, path: str
    ) -> None:
        """No credentials file: the app reads the body as it always does; a copy (bounded) tells
        the audit trail which function a CreateFunction or a log-group call named."""
        keep = needs_body(method, path)
        chunks: list[bytes] = []
        kept = 0

        async def receive_and_keep() -> Message:
            nonlocal kept
            message = await receive()
            if keep and message["type"] == "http.request" and kept <= MAX_CODE_REQUEST:
                chunk = message.get("body", b"")
                kept += len(chunk)
                chunks.append(chunk)
            return message

        def call() -> Call:
            body = b"".join(chunks) if keep and kept <= MAX_CODE_REQUEST else None
            return self._resolve(scope, method, path, body)

        await self._run_and_record(scope, receive_and_keep, send, ANONYMOUS_PRINCIPAL, call)

    async def _authenticated(
        self, scope: Scope, receive: Receive, send: Send, gate: Gate, method: str, path: str
    ) -> None:
        protocol = _protocol(scope, method, path)
        declared = _header(scope, b"content-length")
        body = None
        if declared is None or not declared.isdigit() or int(declared) <= MAX_CODE_REQUEST:
            body = await _read_body(receive, MAX_CODE_REQUEST)  # the signature covers it
        if body is None:
            too_large = f"Request must be smaller than {MAX_CODE_REQUEST} bytes."
            await _refuse(send, protocol, 413, "RequestEntityTooLargeException", too_large)
            return
        call = self._resolve(scope, method, path, body)
        request = IncomingRequest(
            method,
            scope.get("raw_path", path.encode()).decode("latin-1"),
            scope.get("query_string", b"").decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]],
            body,
        )
        principal = ANONYMOUS_PRINCIPAL
        try:
            principal = gate.authenticate(request, call)
            gate.authorize(principal, call)
        except AuthFailure as failure:
            if call.action.mutates:
                refused = 403 if call.protocol is Protocol.REST_JSON else 400
                if not principal.access_key_id:  # the signature itself was refused
                    principal = Principal(ANONYMOUS, ANONYMOUS, (), _claimed_key(request))
                self._record(principal, call, refused, scope, failure.code.value)
            await _refuse(send, call.protocol, None, failure.code.value, failure.message)
            return
        scope.setdefault("state", {})["principal"] = principal
        if not call.action.mutates:  # Invoke and reads: nothing to record, nothing to watch
            await self.app(scope, _replay(body, receive), send)
            return
        await self._run_and_record(scope, _replay(body, receive), send, principal, lambda: call)

    def _resolve(self, scope: Scope, method: str, path: str, body: bytes | None) -> Call:
        parsed = _json_object(body) if body is not None and needs_body(method, path) else None
        if _protocol(scope, method, path) is Protocol.JSON_11:
            return resolve_logs(_header(scope, b"x-amz-target") or "", parsed)
        return resolve_rest_call(method, path, parsed)

    async def _run_and_record(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        principal: Principal,
        call: Callable[[], Call],
    ) -> None:
        """Run the app; when the call changes something, record it with the status answered."""
        if self.audit is None:
            await self.app(scope, receive, send)
            return
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

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            resolved = call()
            if resolved.action.mutates:
                self._record(principal, resolved, status, scope, None, request_id)

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
                access_key_id=principal.access_key_id,
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


def _claimed_key(request: IncomingRequest) -> str:
    """The access key a request says it was signed with ("" when it says none readably)."""
    value = request.header("authorization")
    try:
        return parse_authorization(value).access_key_id[:128] if value else ""
    except AuthFailure:
        return ""


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _protocol(scope: Scope, method: str, path: str) -> Protocol:
    """CloudWatch Logs' calls are `POST /` with an X-Amz-Target; everything else is rest-json."""
    if method == "POST" and path == "/" and _header(scope, b"x-amz-target") is not None:
        return Protocol.JSON_11
    return Protocol.REST_JSON


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
