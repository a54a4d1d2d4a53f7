"""The function URLs themselves: requests to `<url-id>.lambda-url.<region>.<...>` (by Host) or
to `/lambkin/urls/<url-id>/...` become invocations with payload format 2.0 events, and the
functions' answers become HTTP responses (url_events.py).

An ASGI middleware outside the API's access layer: a URL is public (AuthType NONE, with the
function's policy granting it) or checks SigV4 itself (AWS_IAM), and never reaches the API's
routes, whatever its path.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from .. import function_urls as urls
from .. import url_events
from ..actions import Action, Call, Protocol
from ..arns import FunctionRef
from ..errors import LambdaError, LambdaErrorCode
from ..invoker import MAX_SYNC_PAYLOAD, InvokeInput
from ..permissions import ActionKind, allows
from ..sigv4 import AuthErrorCode, AuthFailure, IncomingRequest
from .access import Gate
from .deps import Services

log = logging.getLogger(__name__)

_PATH_PREFIX = urls.PATH_PREFIX.encode()
_HOST_MARK = ".lambda-url."
INVOKE_FUNCTION_URL = Action("lambda:InvokeFunctionUrl", ActionKind.INVOKE, False)
_TIMEOUT_TYPES = (b'"errorType": "Sandbox.Timedout"', b'"errorType":"Sandbox.Timedout"')


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


async def _read(receive: Receive, limit: int) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, answer: url_events.HttpAnswer, extra: list[tuple[str, str]]) -> None:
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in [*answer.headers, *extra]]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body})


async def _start(send: Send, head: url_events.HttpAnswer, extra: list[tuple[str, str]]) -> None:
    """A streamed answer's head: no Content-Length, so the body goes chunked."""
    headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in [*head.headers, *extra]]
    await send({"type": "http.response.start", "status": head.status, "headers": headers})


@dataclass(frozen=True)
class _Prepared:
    config: urls.UrlConfig
    invocation: InvokeInput
    origin: str | None


def _forbidden() -> url_events.HttpAnswer:
    return url_events.json_error(403, "AccessDeniedException", urls.FORBIDDEN)


class FunctionUrlEndpoint:
    def __init__(self, app: ASGIApp, gate: Gate | None, account_id: str) -> None:
        self.app = app
        self._gate = gate
        self._account_id = account_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        host = _header(scope, b"host")
        # Every API request passes here (Invoke's hot path too): two substring tests decide for
        # nearly all of them before the patterns are tried.
        maybe_url = raw_path.startswith(_PATH_PREFIX) or (
            host is not None and _HOST_MARK in host.lower()
        )
        target = urls.target_of(host, raw_path) if maybe_url else None
        if target is None:
            await self.app(scope, receive, send)
            return
        svc: Services = scope["app"].state.services
        request_id = str(uuid.uuid4())
        extra = [("x-amzn-requestid", request_id)]
        try:
            prepared = await self._prepare(svc, scope, receive, target, request_id)
            if isinstance(prepared, url_events.HttpAnswer):
                answer = prepared
            elif prepared.config.invoke_mode == "RESPONSE_STREAM":
                await self._stream(svc, send, prepared, extra)
                return
            else:
                answer = await self._buffered(svc, prepared)
        except Exception:  # the client gets Lambda's 502, the log the cause
            log.exception("function URL request failed", extra={"url_id": target.url_id})
            answer = url_events.error_answer(502)
        await _send(send, answer, extra)

    async def _prepare(
        self,
        svc: Services,
        scope: Scope,
        receive: Receive,
        target: urls.UrlTarget,
        request_id: str,
    ) -> url_events.HttpAnswer | _Prepared:
        """The invocation a URL request makes, or the answer it gets without one."""
        config = svc.urls.by_id(target.url_id)
        if config is None:
            return _forbidden()
        body = await _read(receive, MAX_SYNC_PAYLOAD)
        if body is None:
            return url_events.json_error(
                413, "RequestEntityTooLargeException", "Request must be smaller than 6291456 bytes."
            )
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        lowered = {k.lower(): v for k, v in headers}
        method: str = scope["method"]
        if config.cors and url_events.is_preflight(method, lowered):
            return url_events.preflight(config.cors, lowered)
        caller, refusal = self._authorise(svc, config, scope, headers, body)
        if refusal is not None:
            return refusal
        origin = lowered.get("origin")
        host = lowered.get("host") or f"{config.url_id}.lambda-url"
        client = scope.get("client")
        query = scope.get("query_string", b"").decode("latin-1")
        event = url_events.event(
            url_events.UrlRequest(
                method=method,
                raw_path=target.raw_path.decode("latin-1"),
                raw_query=query,
                headers=headers,
                body=body,
                source_ip=client[0] if client else "",
                url_id=config.url_id,
                domain=host.split(":", 1)[0],
                account_id=self._account_id,
                request_id=request_id,
                caller=caller,
            )
        )
        invocation = InvokeInput(
            ref=FunctionRef(config.function, config.qualifier),
            payload=json.dumps(event).encode(),
            trace_id=lowered.get("x-amzn-trace-id"),
            traceparent=lowered.get("traceparent"),
        )
        return _Prepared(config, invocation, origin)

    async def _buffered(self, svc: Services, prepared: _Prepared) -> url_events.HttpAnswer:
        config, origin = prepared.config, prepared.origin
        try:
            result = await svc.invoker.invoke(prepared.invocation)
        except LambdaError as exc:
            return url_events.with_cors(_invoke_refusal(exc), config.cors, origin)
        if result.function_error:
            timed_out = any(t in result.body[:200] for t in _TIMEOUT_TYPES)
            answer = url_events.error_answer(504 if timed_out else 502)
        else:
            answer = url_events.answer(result.body)
        return url_events.with_cors(answer, config.cors, origin)

    async def _stream(
        self, svc: Services, send: Send, prepared: _Prepared, extra: list[tuple[str, str]]
    ) -> None:
        """RESPONSE_STREAM: the response goes to the client as the function writes it. The head
        waits for the first bytes (an HTTP integration response's prelude, or any byte of a
        plain stream); a failure before them is Lambda's 502 / 504; after them, the stream ends
        where the function stopped. The invocation's chunks are always closed, so a client
        that leaves never holds the instance."""
        config, origin = prepared.config, prepared.origin
        try:
            streamed = await svc.invoker.invoke_stream(prepared.invocation)
        except LambdaError as exc:
            await _send(
                send, url_events.with_cors(_invoke_refusal(exc), config.cors, origin), extra
            )
            return
        chunks = streamed.chunks
        try:
            integration = streamed.content_type.startswith(url_events.HTTP_INTEGRATION)
            pending = b""
            head: url_events.HttpAnswer | None = None
            async for chunk in chunks:
                if head is None:
                    pending += chunk
                    if integration:
                        split = url_events.split_prelude(pending)
                        if split is None:
                            continue
                        head, pending = split
                        if head.status == 502 and head.body:
                            await _send(send, head, extra)
                            return
                    else:
                        head = url_events.HttpAnswer(
                            200, [("content-type", streamed.content_type)], b""
                        )
                    await _start(send, url_events.with_cors(head, config.cors, origin), extra)
                    if pending:
                        await send(
                            {"type": "http.response.body", "body": pending, "more_body": True}
                        )
                    continue
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            if head is None:  # nothing came: how the invocation ended says what to answer
                outcome = await streamed.outcome()
                if outcome.function_error:
                    timed_out = outcome.error_type == "Sandbox.Timedout"
                    answer = url_events.error_answer(504 if timed_out else 502)
                else:
                    answer = url_events.HttpAnswer(
                        200, [("content-type", streamed.content_type)], b""
                    )
                await _send(send, url_events.with_cors(answer, config.cors, origin), extra)
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await chunks.aclose()

    def _authorise(
        self,
        svc: Services,
        config: urls.UrlConfig,
        scope: Scope,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> tuple[url_events.IamCaller | None, url_events.HttpAnswer | None]:
        """(the signer, for AWS_IAM URLs; None) or (None, the refusal)."""
        if config.auth_type == "NONE":
            return None, None if svc.urls.public(config) else _forbidden()
        if self._gate is None:  # nobody to check a signature against: nobody passes
            return None, _forbidden()
        path = scope.get("raw_path") or scope["path"].encode()
        request = IncomingRequest(
            scope["method"],
            path.decode("latin-1"),
            scope.get("query_string", b"").decode("latin-1"),
            headers,
            body,
        )
        call = Call(INVOKE_FUNCTION_URL, config.function, Protocol.REST_JSON)
        try:
            principal = self._gate.authenticate(request, call)
        except AuthFailure as failure:
            if failure.code is AuthErrorCode.MISSING_TOKEN:  # unsigned: Lambda's plain 403
                return None, _forbidden()
            return None, url_events.json_error(403, failure.code.value, failure.message)
        if not allows(principal.permissions, ActionKind.INVOKE, config.function):
            return None, _forbidden()
        caller = url_events.IamCaller(
            access_key=principal.access_key_id,
            account_id=self._account_id,
            user_arn=principal.arn,
            user_id=principal.access_key_id,
        )
        return caller, None


def _invoke_refusal(exc: LambdaError) -> url_events.HttpAnswer:
    """What a URL answers when the invocation is refused before the function runs."""
    code = exc.code
    if code is LambdaErrorCode.TOO_MANY_REQUESTS:
        return url_events.json_error(429, code.value, "Rate Exceeded.")
    if code is LambdaErrorCode.RESOURCE_NOT_FOUND:  # e.g. the URL's alias was deleted
        return _forbidden()
    if code is LambdaErrorCode.REQUEST_TOO_LARGE:
        return url_events.json_error(413, code.value, exc.message)
    status = 500 if code is LambdaErrorCode.SERVICE else code.status
    return url_events.json_error(status, code.value, exc.message)
