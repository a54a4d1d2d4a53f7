"""What the function prints, and how: stream buffering, the root log handler, error log lines.

The agent (or RIE) attributes output lines to the invocation running when they arrive, so
everything printed during an invocation must be written out before its result is posted:
stdout and stderr are line-buffered, and `flush_streams()` runs before every post.

Records of the root logger read like AWS's:
`[INFO]\t2026-11-27T13:06:32.563Z\t<request id>\t<message>`; newlines inside one record become
`\r` so that a record (say, with a traceback) stays one log line, as it is one CloudWatch event.
With LoggingConfig.LogFormat JSON (AWS_LAMBDA_LOG_FORMAT=JSON) a record is one JSON object, in
awslambdaric's shape: timestamp, level, message, logger, stackTrace / errorType / errorMessage /
location (with an exception), requestId, then the record's `extra` fields; print is left as is.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import time
import traceback

TYPE_CHECKING = False  # as typing.TYPE_CHECKING; importing typing costs start-up time

if TYPE_CHECKING:
    from typing import Any

ERROR_LINE_SEPARATOR = "\r"
ERROR_INDENT = "\u00a0"  # awslambdaric indents traceback lines with NO-BREAK SPACEs

_LOG_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"


def line_buffer_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=True)


def flush_streams() -> None:
    """Write out whatever the function left in the buffers (even a partial line)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # a stream the function replaced or closed
            pass


class RequestLogContext:
    """The request id that log records are stamped with; the loop updates it per invocation."""

    __slots__ = ("request_id",)

    def __init__(self) -> None:
        self.request_id = ""


class _RequestIdFilter(logging.Filter):
    def __init__(self, context: RequestLogContext) -> None:
        super().__init__()
        self._context = context

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self._context.request_id
        return True


# A LogRecord's own attributes: everything else on it came from `extra` and goes into the JSON.
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "aws_request_id",
    "message",
    "asctime",
    "taskName",
    "tenant_id",
}
_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


class JsonLogFormatter(logging.Formatter):
    """One record as AWS's JSON log line; levels are the tens (WARNING, CRITICAL as named)."""

    def __init__(self) -> None:
        super().__init__(datefmt="%Y-%m-%dT%H:%M:%SZ")
        self.converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        level = min(50, max(0, record.levelno)) // 10 * 10
        exc = record.exc_info
        message = (
            record.msg if isinstance(record.msg, dict) and not record.args else record.getMessage()
        )
        out: dict[str, Any] = {
            "timestamp": self.formatTime(record, self.datefmt),
            "level": logging.getLevelName(level),
            "message": message,
            "logger": record.name,
        }
        if exc and exc[0] is not None:
            out["stackTrace"] = traceback.format_tb(exc[2])
            out["errorType"] = exc[0].__name__
            out["errorMessage"] = str(exc[1])
        request_id = getattr(record, "aws_request_id", None)
        if request_id is not None:
            out["requestId"] = request_id
        if exc and exc[0] is not None:
            out["location"] = f"{record.pathname}:{record.funcName}:{record.lineno}"
        for key, value in record.__dict__.items():
            if key not in _RECORD_FIELDS and key not in out and value is not None:
                out[key] = value
        return _encode(out)


def json_logs() -> bool:
    return (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"


class LambdaLogHandler(logging.Handler):
    """Writes records to the current `sys.stdout`, one line each, stamped with the request id."""

    def __init__(self, context: RequestLogContext, as_json: bool = False) -> None:
        super().__init__()
        formatter: logging.Formatter
        if as_json:
            formatter = JsonLogFormatter()
        else:
            formatter = logging.Formatter(_LOG_FORMAT, _DATE_FORMAT)
            formatter.converter = time.gmtime
        self.setFormatter(formatter)
        self.addFilter(_RequestIdFilter(context))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if "\n" in text:
                text = text.replace("\n", "\r")
            sys.stdout.write(text + "\n")
        except Exception:
            self.handleError(record)


def log_level_from_env(value: str | None) -> str | None:
    """AWS_LAMBDA_LOG_LEVEL -> a logging level name (TRACE is DEBUG), None when unset/unknown."""
    level = (value or "").upper()
    level = "DEBUG" if level == "TRACE" else level
    return level if level in logging.getLevelNamesMapping() else None


def install_log_handler(context: RequestLogContext) -> LambdaLogHandler:
    """Give the root logger our handler; AWS_LAMBDA_LOG_LEVEL, when set, becomes its level.

    Otherwise the root level stays Python's default (WARNING), as under awslambdaric.
    """
    handler = LambdaLogHandler(context, as_json=json_logs())
    root = logging.getLogger()
    root.addHandler(handler)
    level = log_level_from_env(os.environ.get("AWS_LAMBDA_LOG_LEVEL"))
    if level:
        root.setLevel(level)
    return handler


def _indent_with_nbsp(line: str) -> str:
    stripped = line.lstrip(" ")
    return ERROR_INDENT * (len(line) - len(stripped)) + stripped


def error_log_text(error: dict[str, Any]) -> str:
    """`[ERROR] Type: message\\rTraceback (most recent call last):\\r  File ...`, one line."""
    description = "[ERROR]"
    error_type = error.get("errorType")
    message = error.get("errorMessage")
    if error_type:
        description += " " + error_type
    if message:
        description += (":" if error_type else "") + " " + message
    lines = [description, "Traceback (most recent call last):"]
    for element in error.get("stackTrace") or ():
        if element == "":
            lines.append("")
        else:
            lines.extend(_indent_with_nbsp(line) for line in element.splitlines())
    text = ERROR_LINE_SEPARATOR.join(lines)
    return text.replace("\n", ERROR_LINE_SEPARATOR) + "\n"  # a multi-line message stays one line


def log_error(error: dict[str, Any]) -> None:
    """The error report awslambdaric prints for a failed init or invocation (to stdout)."""
    sys.stdout.write(error_log_text(error))
