"""Start-up and the invocation loop: `python3 -m lambkin_runtime [module.function]`.

The handler comes from argv[1] when given, else from `_HANDLER`. Init failures are posted to
`/runtime/init/error` and end the process with status 1; invocation failures are posted to
`/invocation/{id}/error` and the loop goes on.
"""

from __future__ import annotations

import logging
import os
import sys

from .context import FunctionMeta, LambdaContext
from .errors import error_from_exception
from .handler_loader import load_handler, put_task_root_first
from .logging_setup import (
    RequestLogContext,
    flush_streams,
    install_log_handler,
    line_buffer_streams,
    log_error,
)
from .marshalling import decode_event, encode_response
from .runtime_api import RuntimeApiClient, RuntimeApiError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING; importing typing costs start-up time

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .handler_loader import Handler

TRACE_ID_VARIABLE = "_X_AMZN_TRACE_ID"
INIT_FAILURE_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code."
)


def serve(
    api: RuntimeApiClient, handler: Handler, meta: FunctionMeta, log_context: RequestLogContext
) -> None:
    """Take events one at a time, for ever."""
    environ = os.environ
    while True:
        invocation = api.next_invocation()
        request_id = invocation.request_id
        log_context.request_id = request_id
        if invocation.trace_id:
            environ[TRACE_ID_VARIABLE] = invocation.trace_id
        else:
            environ.pop(TRACE_ID_VARIABLE, None)
        try:
            context = LambdaContext(
                meta,
                request_id,
                invocation.deadline_ms,
                invocation.invoked_function_arn,
                invocation.client_context,
                invocation.cognito_identity,
                invocation.tenant_id,
            )
            event = decode_event(invocation.body, invocation.content_type)
            body, content_type = encode_response(handler(event, context))
        except Exception as exc:
            error = error_from_exception(exc, request_id)
            log_error(error)
            flush_streams()
            _report(api.post_error, request_id, error)
        else:
            flush_streams()
            _report(api.post_response, request_id, body, content_type)


def _report(post: Callable[..., None], *args: Any) -> None:
    """Post a result; a refusal (too large, already answered...) ends only this invocation."""
    try:
        post(*args)
    except RuntimeApiError as exc:
        sys.stderr.write(f"[ERROR] Runtime API refused the result: {exc}\n")


def main(argv: list[str]) -> int:
    handler_name = argv[1] if len(argv) > 1 else os.environ.get("_HANDLER", "")
    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("lambkin_runtime: AWS_LAMBDA_RUNTIME_API is not set\n")
        return 2
    api = RuntimeApiClient(address)
    line_buffer_streams()
    log_context = RequestLogContext()
    install_log_handler(log_context)
    put_task_root_first(os.environ.get("LAMBDA_TASK_ROOT"))
    try:
        handler = load_handler(handler_name)
    except Exception as exc:
        error = error_from_exception(exc)
        logging.warning(INIT_FAILURE_WARNING)
        log_error(error)
        flush_streams()
        api.post_init_error(error)
        return 1
    serve(api, handler, FunctionMeta(os.environ), log_context)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
