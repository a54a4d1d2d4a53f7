"""The Invoke route: POST /2015-03-31/functions/{name}/invocations."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ..arns import parse_function_ref
from ..invoker import MAX_ASYNC_PAYLOAD, MAX_SYNC_PAYLOAD, InvokeInput
from ..tracing import parse_xray
from .deps import Services, read_body

router = APIRouter()


async def invoke(request: Request) -> Response:
    """A plain Starlette endpoint: no dependency solving or parameter models on the hot path
    (FastAPI's dependency solving and parameter models cost ~60 us of CPU a call)."""
    svc: Services = request.app.state.services
    ref = parse_function_ref(
        request.path_params["function_name"], request.query_params.get("Qualifier")
    )
    headers = request.headers
    invocation_type = headers.get("x-amz-invocation-type", "RequestResponse")
    limit = MAX_ASYNC_PAYLOAD if invocation_type == "Event" else MAX_SYNC_PAYLOAD
    payload = await read_body(
        request,
        limit,
        f"Request must be smaller than {limit} bytes for the InvokeFunction operation",
    )
    invoke_input = InvokeInput(
        ref=ref,
        payload=payload,
        invocation_type=invocation_type,
        log_type=headers.get("x-amz-log-type", "None"),
        client_context_b64=headers.get("x-amz-client-context"),
        trace_id=headers.get("x-amzn-trace-id"),
        traceparent=headers.get("traceparent"),
    )
    if invocation_type == "Event":
        result = await svc.dispatcher.accept(svc.functions, invoke_input)
    else:
        result = await svc.invoker.invoke(invoke_input)
    out = {"x-amzn-RequestId": result.request_id, "X-Amz-Executed-Version": result.executed_version}
    if result.function_error:
        out["X-Amz-Function-Error"] = result.function_error
    if result.log_result is not None:
        out["X-Amz-Log-Result"] = result.log_result
    if result.trace_id:
        # The caller's header as sent; W3C callers get our invocation span as the parent.
        out["X-Amzn-Trace-Id"] = invoke_input.trace_id or result.trace_id
        context = parse_xray(result.trace_id)
        if context is not None and context.parent_span_id:
            out["traceparent"] = context.traceparent(context.parent_span_id)
    if result.server_timing:
        out["Server-Timing"] = result.server_timing
    return Response(
        result.body, status_code=result.status, headers=out, media_type=result.content_type
    )


router.add_route(
    "/2015-03-31/functions/{function_name}/invocations",
    invoke,
    methods=["POST"],
    include_in_schema=False,
)
