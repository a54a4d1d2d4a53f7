"""LoggingConfig honoured by each runtime's own client: JSON records in AWS's shape for that
runtime, and ApplicationLogLevel filtering what the function's logger lets through.

The Python client's record shape is tested in depth in test_logs.py, the Node.js client's
against aws-lambda-ric's own in tests/conformance/test_node_log_patch.py; here every language's
client is held to the same scenario: one record per level, then a plain print, at
ApplicationLogLevel WARN (only WARN and above), then DEBUG (all), then Text (no JSON at all).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.support.logging_config import deploy, invoke_with_logging
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

NODE_LEVELS = """
exports.handler = async () => {
  console.debug("debug record");
  console.info("info record");
  console.warn("warn record");
  console.error("error record");
  process.stdout.write("printed line\\n");
  return "done";
};
"""


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"logcfg-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


def test_python_levels_and_format(server: Server) -> None:
    name = deploy(server, "python3.11", make_zip({"levels.py": PYTHON_LEVELS}), "levels.handler")
    warn = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "WARN"})
    records = warn.application_records
    assert [(r["level"], r["message"]) for r in records] == [
        ("WARNING", "warn record"),
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
    assert any(
        line.startswith("[WARNING]\t") and line.endswith(f"\t{text.request_id}\twarn record")
        for line in text.lines
    ), text.lines


@pytest.mark.parametrize("runtime", ["nodejs18.x", "nodejs20.x"])
def test_node_levels_and_format(server: Server, runtime: str) -> None:
    name = deploy(server, runtime, make_zip({"levels.js": NODE_LEVELS}), "levels.handler")
    warn = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "WARN"})
    records = warn.application_records
    assert [(r["level"], r["message"]) for r in records] == [
        ("WARN", "warn record"),
        ("ERROR", "error record"),
    ], warn.lines
    for record in records:  # aws-lambda-ric's fields, in its order
        assert list(record) == ["timestamp", "level", "requestId", "message"], record
        assert record["requestId"] == warn.request_id
        assert ISO_MILLIS.fullmatch(record["timestamp"])
    assert "printed line" in warn.lines  # not console: left as it is

    debug = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    assert [(r["level"], r["message"]) for r in debug.application_records] == [
        ("DEBUG", "debug record"),
        ("INFO", "info record"),
        ("WARN", "warn record"),
        ("ERROR", "error record"),
    ], debug.lines

    text = invoke_with_logging(server, name, {"LogFormat": "Text"})
    assert text.records == [], text.lines
    stamped = [line.split("\t") for line in text.lines if f"\t{text.request_id}\t" in line]
    assert [(level, message) for _, _, level, message in stamped] == [
        ("DEBUG", "debug record"),
        ("INFO", "info record"),
        ("WARN", "warn record"),
        ("ERROR", "error record"),
    ], text.lines
    assert all(ISO_MILLIS.fullmatch(time) for time, *_ in stamped)
    assert "printed line" in text.lines
