"""LoggingConfig honoured by each runtime's own client: JSON records in AWS's shape for that
runtime, and ApplicationLogLevel filtering what the function's logger lets through.

The Python client's record shape is tested in depth in test_logs.py, the Ruby client's in
tests/unit/test_ruby_logs.py; here every language's client is held to the same scenario: one
record per level, then a plain print, at ApplicationLogLevel WARN (only WARN and above), then
DEBUG (all), then Text (no JSON at all).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.support.logging_config import LoggedInvocation, deploy, invoke_with_logging
from tests.support.server import Server, start_server
from tests.support.zips import make_zip

ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]

PYTHON_LEVELS = """
import logging

def handler(event, context):
    log = logging.getLogger("fn")
    log.debug("debug record")
    log.info("info record")
    log.warning("warn record")
    log.error("error record")
    print("printed line")
    return "done"
"""

RUBY_LEVELS = """
require 'logger'

def handler(event:, context:)
  log = Logger.new($stdout)
  log.debug('debug record')
  log.info('info record')
  log.warn('warn record')
  log.error('error record')
  puts 'printed line'
  'done'
end
"""


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"logcfg-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


def levels_and_format(
    server: Server, name: str, warn_level: str
) -> tuple[LoggedInvocation, LoggedInvocation]:
    """The scenario every client is held to; returns its WARN and its Text invocations for the
    runtime's own checks. `warn_level` is how the language's logger names WARN records."""
    warn = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "WARN"})
    records = warn.application_records
    assert [(r["level"], r["message"]) for r in records] == [
        (warn_level, "warn record"),
        ("ERROR", "error record"),
    ], warn.lines
    assert all(r["requestId"] == warn.request_id for r in records)
    assert all(ISO_MILLIS.fullmatch(r["timestamp"]) for r in records)
    assert "printed line" in warn.lines  # print is not a logger: left as it is

    debug = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    assert [r["message"] for r in debug.application_records] == [
        "debug record",
        "info record",
        "warn record",
        "error record",
    ], debug.lines

    text = invoke_with_logging(server, name, {"LogFormat": "Text"})
    assert text.records == [], text.lines
    assert "printed line" in text.lines
    return warn, text


def test_python_levels_and_format(server: Server) -> None:
    name = deploy(server, "python3.11", make_zip({"levels.py": PYTHON_LEVELS}), "levels.handler")
    _, text = levels_and_format(server, name, "WARNING")
    assert any(
        line.startswith("[WARNING]\t") and line.endswith(f"\t{text.request_id}\twarn record")
        for line in text.lines
    ), text.lines


RUBY_TEXT_WARN = re.compile(
    r"W, \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6} #\d+\]  WARN (\S+) -- : warn record"
)


def test_ruby_levels_and_format(server: Server) -> None:
    """aws_lambda_ric's Logger records (lambda_log_formatter.rb and logger_patch.rb at commit
    176656015c59a867479446f94db70e57dd8c6bf3): JSON fields timestamp, level (Logger's
    severity), message, requestId; its text line `W, [<time> #<pid>]  WARN <id> -- : ...`."""
    name = deploy(server, "ruby3.1", make_zip({"levels.rb": RUBY_LEVELS}), "levels.handler")
    warn, text = levels_and_format(server, name, "WARN")
    fields = [list(record) for record in warn.application_records]
    assert fields == [["timestamp", "level", "message", "requestId"]] * 2
    found = [m.group(1) for m in map(RUBY_TEXT_WARN.fullmatch, text.lines) if m]
    assert found == [text.request_id], text.lines


RUBY_FAILS = """
def handler(event:, context:)
  raise ArgumentError, "bad input\\nsecond line"
end
"""


def test_ruby_error_report_in_json_format(server: Server) -> None:
    """aws_lambda_ric's LambdaLogger.log_error (lambda_logger.rb, commit 70a2045638e5e4356c4a3bd5
    b6137af73b1f1758), whatever the log format: a line, then the error document pretty-printed,
    one event (its newlines written as "\\r", JSON whitespace all the same)."""
    name = deploy(server, "ruby3.1", make_zip({"fails.rb": RUBY_FAILS}), "fails.handler")
    failed = invoke_with_logging(server, name, {"LogFormat": "JSON"}, fails=True)
    at = failed.lines.index("Error raised from handler method")
    document = failed.lines[at + 1]
    assert document.startswith('{\r  "errorMessage": "bad input\\nsecond line",\r'), document
    assert json.loads(document) == failed.result
    assert failed.result["errorType"] == "Function<ArgumentError>"
    assert failed.result["stackTrace"][0].endswith("/fails.rb:3:in `handler'")
