"""Error types and the error documents posted to the Runtime API.

The document is `{"errorMessage", "errorType", "requestId", "stackTrace"}` (awslambdaric's key
order); `stackTrace` is a list of `traceback.format_list` entries, without this package's own
frames.
"""

from __future__ import annotations

import os
import traceback

TYPE_CHECKING = False  # as typing.TYPE_CHECKING; importing typing costs start-up time

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Any

# Client-visible error types raised by the runtime itself (a closed list, as in awslambdaric).
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
MARSHAL_ERROR = "Runtime.MarshalError"
CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class FaultError(Exception):
    """A failure the runtime reports under one of its own `Runtime.*` types."""

    def __init__(self, error_type: str, message: str, stack_trace: list[str] | None = None):
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.stack_trace = stack_trace or []

    def document(self, request_id: str = "") -> dict[str, Any]:
        return make_error(self.message, self.error_type, self.stack_trace, request_id)


def make_error(
    message: str, error_type: str, stack_trace: list[str], request_id: str = ""
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack_trace,
    }


def stack_trace(tb: TracebackType | None) -> list[str]:
    """The traceback as `format_list` strings, minus the leading frames of this package.

    Frames become plain tuples first so that no `^^^^` position markers are added (awslambdaric
    formats them the same way).
    """
    frames = [(f.filename, f.lineno or 0, f.name, f.line) for f in traceback.extract_tb(tb)]
    for index, frame in enumerate(frames):
        if not frame[0].startswith(_PACKAGE_DIR):
            return traceback.format_list(frames[index:])
    return traceback.format_list(frames)


def error_from_exception(exc: BaseException, request_id: str = "") -> dict[str, Any]:
    """The document for an exception raised by user code (its class name is the error type)."""
    if isinstance(exc, FaultError):
        return exc.document(request_id)
    return make_error(str(exc), type(exc).__name__, stack_trace(exc.__traceback__), request_id)
