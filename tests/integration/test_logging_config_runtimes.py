"""LoggingConfig honoured by each runtime's own client: JSON records in AWS's shape for that
runtime, and ApplicationLogLevel filtering what the function's logger lets through.

The Python client's record shape is tested in depth in test_logs.py; here every language's
client is held to the same scenario: one record per level, then a plain print, at
ApplicationLogLevel WARN (only WARN and above), then DEBUG (all), then Text (no JSON at all).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator import images, java_libs
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


JAVA_LEVELS = """
package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;

public class Levels implements RequestHandler<Object, String> {
    public String handleRequest(Object event, Context context) {
        LambdaLogger log = context.getLogger();
        log.log("debug record\\n", LogLevel.DEBUG);
        log.log("info record\\n", LogLevel.INFO);
        log.log("warn record\\n", LogLevel.WARN);
        log.log("error record\\n", LogLevel.ERROR);
        log.log("two\\nlines", LogLevel.FATAL);
        System.out.println("printed line");
        return "done";
    }
}
"""


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"logcfg-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


def _messages_at_debug(server: Server, name: str) -> list[str]:
    """The messages of one invocation's application records at ApplicationLogLevel DEBUG."""
    debug = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    records = debug.application_records
    assert records, debug.lines
    return [str(r["message"]) for r in records]


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

    assert _messages_at_debug(server, name) == [
        "debug record",
        "info record",
        "warn record",
        "error record",
    ]

    text = invoke_with_logging(server, name, {"LogFormat": "Text"})
    assert text.records == [], text.lines
    assert any(
        line.startswith("[WARNING]\t") and line.endswith(f"\t{text.request_id}\twarn record")
        for line in text.lines
    ), text.lines


def _java_levels_zip(tmp: Path) -> bytes:
    """JAVA_LEVELS compiled against the runtime's aws-lambda-java-core, classes at the root."""
    assert shutil.which("javac") and shutil.which("mvn"), "needs a JDK and Maven"
    core = java_libs.jars(images.JAVA_LIBS, lambda line: None)[0]
    source = tmp / "example" / "Levels.java"
    source.parent.mkdir(parents=True)
    source.write_text(JAVA_LEVELS)
    classes = tmp / "classes"
    javac = ["javac", "--release", "17", "-nowarn", "-cp", str(core), "-d", str(classes)]
    subprocess.run([*javac, str(source)], check=True, timeout=120)
    return make_zip({"example/Levels.class": (classes / "example" / "Levels.class").read_bytes()})


def test_java17_levels_and_format(server: Server, tmp_path: Path) -> None:
    code = _java_levels_zip(tmp_path)
    name = deploy(server, "java17", code, "example.Levels::handleRequest")
    warn = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "WARN"})
    records = warn.application_records
    assert [(r["level"], r["message"]) for r in records] == [
        ("WARN", "warn record\n"),
        ("ERROR", "error record\n"),
        ("FATAL", "two\nlines"),  # one record: the newline stays inside it
    ], warn.lines
    assert all(list(r) == ["timestamp", "message", "level", "AWSRequestId"] for r in records)
    assert all(r["AWSRequestId"] == warn.request_id for r in records)
    assert all(ISO_MILLIS.fullmatch(r["timestamp"]) for r in records)
    assert "printed line" in warn.lines  # System.out is not the logger: left as it is

    assert _messages_at_debug(server, name) == [
        "debug record\n",
        "info record\n",
        "warn record\n",
        "error record\n",
        "two\nlines",
    ]

    text = invoke_with_logging(server, name, {"LogFormat": "Text"})
    assert text.records == [], text.lines
    assert "[WARN] warn record" in text.lines, text.lines  # AWS's "[LEVEL] " prefix, no more
    assert "[DEBUG] debug record" in text.lines, text.lines  # no level filter in Text
