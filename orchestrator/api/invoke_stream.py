"""InvokeWithResponseStream: POST /2021-11-15/functions/{name}/response-streaming-invocations.

The answer is an AWS event stream (`event_stream.py`): the function's response as
`PayloadChunk` events as it writes it (a function that does not stream: its whole response),
then one `InvokeComplete` with `ErrorCode`/`ErrorDetails` when it failed and `LogResult` when
the caller asked for the tail. Errors before the first byte are ordinary error answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from .. import event_stream
from ..arns import parse_function_ref
from ..invoker import MAX_SYNC_PAYLOAD, InvokeInput
from ..streamed_invocation import StreamedInvocation
from .deps import Services, read_body

router = APIRouter()


async def _events(streamed: StreamedInvocation, tail: bool) -> AsyncIterator[bytes]:
    async for chunk in streamed.chunks:
        for part in event_stream.payload_chunks(chunk):
            yield part
    outcome = await streamed.outcome()
    yield event_stream.invoke_complete(
        outcome.error_type if outcome.function_error else None,
        outcome.error_message if outcome.function_error else None,
        outcome.log_tail_b64 if tail else None,
    )


class _EventStreamResponse(StreamingResponse):
    """Whatever happens to the answer (sent, the client gone before or during), the
    invocation's chunks are closed, so its slot and instance are never held past it."""

    def __init__(self, streamed: StreamedInvocation, tail: bool, headers: dict[str, str]) -> None:
        super().__init__(
            _events(streamed, tail), headers=headers, media_type=event_stream.CONTENT_TYPE
        )
        self._streamed = streamed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._streamed.chunks.aclose()


async def invoke_with_response_stream(request: Request) -> Response:
    svc: Services = request.app.state.services
    ref = parse_function_ref(
        request.path_params["function_name"], request.query_params.get("Qualifier")
    )
    headers = request.headers
    payload = await read_body(
        request,
        MAX_SYNC_PAYLOAD,
        f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation",
    )
    invoke_input = InvokeInput(
        ref=ref,
        payload=payload,
        invocation_type=headers.get("x-amz-invocation-type", "RequestResponse"),
        log_type=headers.get("x-amz-log-type", "None"),
        client_context_b64=headers.get("x-amz-client-context"),
        trace_id=headers.get("x-amzn-trace-id"),
        traceparent=headers.get("traceparent"),
    )
    if invoke_input.invocation_type == "DryRun":
        checked = await svc.invoker.invoke(invoke_input)
        dry = {"x-amzn-RequestId": checked.request_id}
        dry["X-Amz-Executed-Version"] = checked.executed_version
        return Response(status_code=204, headers=dry)
    streamed = await svc.invoker.invoke_stream(invoke_input)
    out: dict[str, Any] = {
        "x-amzn-RequestId": streamed.request_id,
        "X-Amz-Executed-Version": streamed.executed_version,
    }
    if streamed.trace_id:
        out["X-Amzn-Trace-Id"] = invoke_input.trace_id or streamed.trace_id
    return _EventStreamResponse(streamed, invoke_input.log_type == "Tail", out)


router.add_route(
    "/2021-11-15/functions/{function_name}/response-streaming-invocations",
    invoke_with_response_stream,
    methods=["POST"],
    include_in_schema=False,
)
