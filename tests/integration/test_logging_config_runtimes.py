"""LoggingConfig honoured by each runtime's own client: JSON records in AWS's shape for that
runtime, and ApplicationLogLevel filtering what the function's logger lets through.

The Python client's record shape is tested in depth in test_logs.py, the Ruby client's in
tests/unit/test_ruby_logs.py, the Node.js client's against aws-lambda-ric's own in
tests/conformance/test_node_log_patch.py, the Java client's against AWS's Java RIC in
tests/conformance/test_java_log_format_oracle.py, the C# client's in test_mono_runtime.py; here
every language's client is held to the same scenario: one record per level, then a plain print,
at ApplicationLogLevel WARN (only WARN and above), then DEBUG (all), then Text (no JSON at all).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator import images, java_libs
from tests.support.csharp import compile_csharp
from tests.support.logging_config import LoggedInvocation, deploy, invoke_with_logging
from tests.support.server import Server, start_server
from tests.support.zips import make_zip

CSHARP = Path(__file__).parent / "functions" / "csharp_logging"
ISO_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
RECORD_KEYS = {"timestamp", "level", "requestId", "traceId", "message"}
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


def _serve(driver: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(driver, tmp_path_factory.mktemp(f"logcfg-{driver}"))
    yield srv
    assert srv.stop() == 0, srv.log()


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
    yield from _serve(request.param, tmp_path_factory)


def _messages_at_debug(server: Server, name: str) -> list[str]:
    """The messages of one invocation's application records at ApplicationLogLevel DEBUG."""
    debug = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    records = debug.application_records
    assert records, debug.lines
    return [str(r["message"]) for r in records]


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

    assert _messages_at_debug(server, name) == [
        "debug record",
        "info record",
        "warn record",
        "error record",
    ]

    text = invoke_with_logging(server, name, {"LogFormat": "Text"})
    assert text.records == [], text.lines
    assert "printed line" in text.lines
    return warn, text


def test_python_levels_and_format(server: Server) -> None:
    python_scenario(server, "python3.11")


def python_scenario(server: Server, runtime: str) -> None:
    name = deploy(server, runtime, make_zip({"levels.py": PYTHON_LEVELS}), "levels.handler")
    _, text = levels_and_format(server, name, "WARNING")
    assert any(
        line.startswith("[WARNING]\t") and line.endswith(f"\t{text.request_id}\twarn record")
        for line in text.lines
    ), text.lines


RUBY_TEXT_WARN = re.compile(
    r"W, \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6} #\d+\]  WARN (\S+) -- : warn record"
)


def test_ruby_levels_and_format(server: Server) -> None:
    ruby_scenario(server, "ruby3.1")


def ruby_scenario(server: Server, runtime: str) -> None:
    """aws_lambda_ric's Logger records (lambda_log_formatter.rb and logger_patch.rb at commit
    176656015c59a867479446f94db70e57dd8c6bf3): JSON fields timestamp, level (Logger's
    severity), message, requestId; its text line `W, [<time> #<pid>]  WARN <id> -- : ...`."""
    name = deploy(server, runtime, make_zip({"levels.rb": RUBY_LEVELS}), "levels.handler")
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


@pytest.fixture(scope="module")
def docker_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """For the runtimes that exist only as images (mono6.12)."""
    yield from _serve("docker", tmp_path_factory)


@pytest.fixture(scope="module")
def csharp_code(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    dll = compile_csharp(CSHARP, tmp_path_factory.mktemp("mcs-logging"), "Logging")
    return make_zip({"Logging.dll": dll.read_bytes()})


@pytest.mark.docker
def test_mono_levels_and_format(docker_server: Server, csharp_code: bytes) -> None:
    """Amazon.Lambda.RuntimeSupport's logging: JSON records {timestamp, level (the full name),
    requestId, traceId, message, a field per template parameter, the exception's errorType,
    errorMessage and stackTrace}; Console.WriteLine is a record at Information, so WARN drops it;
    Text is "<time>\t<request id>\t<label>\t<message>"."""
    server = docker_server
    name = deploy(server, "mono6.12", csharp_code, "Logging::Logging.Levels::Handle")
    warn = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "WARN"})
    records = warn.application_records
    assert [(r["level"], r["message"]) for r in records] == [
        ("Warning", "warn record x2"),
        ("Error", "error record"),
        ("Critical", "critical record"),
    ], warn.lines
    assert all(r["requestId"] == warn.request_id for r in records)
    assert all(ISO_MILLIS.fullmatch(r["timestamp"]) for r in records)
    assert (records[0]["what"], records[0]["count"]) == ("record", 2)  # template parameters
    error = records[1]
    assert error["errorType"] == "System.InvalidOperationException"
    assert error["errorMessage"] == "the fence is down"
    assert error["stackTrace"][0] == "System.InvalidOperationException: the fence is down"
    assert not any("printed line" in line for line in warn.lines), warn.lines

    debug = invoke_with_logging(server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG"})
    assert [(r["level"], r["message"]) for r in debug.application_records] == [
        ("Debug", "debug record"),
        ("Information", "info record"),
        ("Warning", "warn record x2"),
        ("Error", "error record"),
        ("Critical", "critical record"),
        ("Information", "printed line"),  # Console.WriteLine
    ], debug.lines

    text = invoke_with_logging(server, name, {"LogFormat": "Text"})
    assert text.records == [], text.lines
    prefix = re.compile(rf"^{ISO_MILLIS.pattern}\t{re.escape(text.request_id)}\t")
    labelled = {
        line.split("\t", 2)[2]
        for line in text.lines
        if prefix.match(line) and line.count("\t") >= 2
    }
    assert {"info\tinfo record", "warn\twarn record x2", "info\tprinted line"} <= labelled, (
        text.lines
    )
    assert "fail\terror record" in labelled, text.lines
    assert not any("debug record" in line for line in text.lines)  # Information by default


@pytest.mark.docker
def test_mono_message_templates(docker_server: Server, csharp_code: bytes) -> None:
    """RuntimeSupport's templates: positional "{0}", ":format", byte arrays in hex, lists and
    dictionaries as JSON values (left as "{name}" in the message), "@" serialises the value;
    a level that is not one of the six reads as Trace and is never filtered, as is LambdaLogger.Log;
    ILambdaLogger.Log(message) writes the text as it is."""
    name = deploy(docker_server, "mono6.12", csharp_code, "Logging::Logging.Templates::Handle")
    logged = invoke_with_logging(
        docker_server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "ERROR"}
    )
    records = {r["message"]: r for r in logged.application_records}
    assert list(records) == ["an unknown level", "static logger"], logged.lines
    assert {r["level"] for r in records.values()} == {"Trace"}
    assert "written as it is" in logged.lines, logged.lines

    logged = invoke_with_logging(
        docker_server, name, {"LogFormat": "JSON", "ApplicationLogLevel": "INFO"}
    )
    records = {r["message"]: r for r in logged.application_records}
    fields = {
        message: {k: v for k, v in r.items() if k not in RECORD_KEYS}
        for message, r in records.items()
    }
    assert fields == {
        "positional b then a": {"0": "a", "1": "b"},
        "count 007": {"n": "007"},
        "bytes 01AB": {"b": "01AB"},
        "list {items}": {"items": [1, 2]},
        "product Logging.Product": {"product": {"Name": "Widget", "Inventory": 100}},
        "plain Widget 100": {"product": "Widget 100"},
        "escaped {{braces}} and x": {"name": "x"},
        "fewer 1 {two}": {"one": "1"},
        "an unknown level": {},
        "static logger": {},
    }, logged.lines


@pytest.mark.docker
def test_mono_handler_log_settings_come_first(docker_server: Server, csharp_code: bytes) -> None:
    """RuntimeSupport reads AWS_LAMBDA_HANDLER_LOG_LEVEL / _FORMAT before Lambda's own variables:
    a function's Unformatted is the bare message (the exception after it), at its own level."""
    environment = {
        "AWS_LAMBDA_HANDLER_LOG_LEVEL": "Error",
        "AWS_LAMBDA_HANDLER_LOG_FORMAT": "Unformatted",
    }
    name = deploy(
        docker_server,
        "mono6.12",
        csharp_code,
        "Logging::Logging.Levels::Handle",
        environment=environment,
    )
    logged = invoke_with_logging(docker_server, name, {"LogFormat": "Text"})
    body = logged.lines[1:-2]  # between START, and END and REPORT
    assert body == [
        "error record",
        "System.InvalidOperationException: the fence is down",
        "critical record",
    ], logged.lines


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
    java_scenario(server, "java17", tmp_path)


def java_scenario(server: Server, runtime: str, tmp_path: Path) -> None:
    code = _java_levels_zip(tmp_path)
    name = deploy(server, runtime, code, "example.Levels::handleRequest")
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


@pytest.mark.parametrize("runtime", ["nodejs18.x", "nodejs20.x"])
def test_node_levels_and_format(server: Server, runtime: str) -> None:
    node_scenario(server, runtime)


def node_scenario(server: Server, runtime: str) -> None:
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


@pytest.mark.docker
@pytest.mark.parametrize(
    "runtime", ["python3.13", "python3.14", "nodejs24.x", "ruby3.3", "java21", "java25"]
)
def test_newer_runtimes_log_as_their_languages_first(
    docker_server: Server, runtime: str, tmp_path: Path
) -> None:
    """Every other offered runtime, in its image (the host has not their language versions):
    the same client, held to its language's scenario above."""
    if runtime.startswith("python"):
        python_scenario(docker_server, runtime)
    elif runtime.startswith("nodejs"):
        node_scenario(docker_server, runtime)
    elif runtime.startswith("ruby"):
        ruby_scenario(docker_server, runtime)
    else:
        java_scenario(docker_server, runtime, tmp_path)
