"""LoggingConfig JSON in our Python client: each record is what awslambdaric's JsonFormatter
writes for it (awslambdaric fetched at test time, tests/support/oracles.py), and
AWS_LAMBDA_LOG_LEVEL drops what is below it."""

from __future__ import annotations

import importlib.util
import io
import json
import logging
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.oracles import awslambdaric_dir

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "runtime-images" / "python"))

from lambkin_runtime.logging_setup import (  # noqa: E402
    JsonLogFormatter,
    RequestLogContext,
    install_log_handler,
)


def oracle() -> ModuleType:
    path = awslambdaric_dir() / "awslambdaric" / "lambda_runtime_log_utils.py"
    spec = importlib.util.spec_from_file_location("ric_log_utils", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def records() -> list[logging.LogRecord]:
    def make(
        level: int, msg: object, args: tuple[object, ...] = (), **extra: object
    ) -> logging.LogRecord:
        record = logging.LogRecord(
            "app.payments", level, "/var/task/app.py", 12, msg, args, None, "handler"
        )
        record.aws_request_id = "8d93b2c1"
        record.__dict__.update(extra)
        return record

    try:
        raise ValueError("bad value")
    except ValueError:
        failing = make(logging.ERROR, "failed %s", ("once",))
        failing.exc_info = sys.exc_info()
    return [
        make(logging.INFO, "hello %s", ("world",)),
        make(logging.WARNING, "careful"),
        make(logging.CRITICAL, "fatal"),
        make(25, "between info and warning"),
        make(logging.DEBUG, {"order": 7, "items": ["a"]}),
        make(logging.INFO, "with extras", cart={"id": 3}, user="jane", none_field=None, obj=object),
        make(logging.INFO, "unicode é ✓"),
        failing,
    ]


def test_records_match_awslambdaric() -> None:
    theirs = oracle().JsonFormatter()
    ours = JsonLogFormatter()
    for record in records():
        expected = theirs.format(logging.makeLogRecord(dict(record.__dict__)))
        got = ours.format(logging.makeLogRecord(dict(record.__dict__)))
        assert got + "\n" == expected, record.msg
        assert json.loads(got)["requestId"] == "8d93b2c1"


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        ("TRACE", ["debug", "info", "warn", "error", "fatal"]),
        ("DEBUG", ["debug", "info", "warn", "error", "fatal"]),
        ("INFO", ["info", "warn", "error", "fatal"]),
        ("WARN", ["warn", "error", "fatal"]),
        ("ERROR", ["error", "fatal"]),
        ("FATAL", ["fatal"]),
    ],
)
def test_application_log_level_drops_lower_records(
    level: str, shown: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_LOG_FORMAT", "JSON")
    monkeypatch.setenv("AWS_LAMBDA_LOG_LEVEL", level)
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    root = logging.getLogger()
    saved = root.level
    context = RequestLogContext()
    context.request_id = "r1"
    handler = install_log_handler(context)
    try:
        log = logging.getLogger("fn")
        log.debug("debug")
        log.info("info")
        log.warning("warn")
        log.error("error")
        log.critical("fatal")
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["message"] for line in lines] == shown
    assert {line["requestId"] for line in lines} == {"r1"}
