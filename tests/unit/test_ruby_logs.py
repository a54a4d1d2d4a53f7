"""The Ruby client's loggers (runtime-images/ruby/lambkin_runtime_ruby/logging.rb), run under the
host's ruby: each record is what AWS's Ruby runtime client writes for it, and the environment
sets format and level as it does there.

The oracle is aws/aws-lambda-ruby-runtime-interface-client (aws_lambda_ric) at commit
176656015c59a867479446f94db70e57dd8c6bf3 (PR #58, "Add structured JSON logging support"):
`lib/aws_lambda_ric/lambda_log_formatter.rb` (LogFormatter, JsonLogFormatter) and
`lib/aws_lambda_ric/logger_patch.rb` (which loggers are patched, LOG_LEVEL_MAP, an explicit
`formatter:` / `level:` wins; its test/unit/logger_patch_test.rb at c8a2ab6d99ac6fd7ea60216116
32842cb30ff5d1), and `lib/aws_lambda_ric/lambda_logger.rb` at 70a2045638e5e4356c4a3bd5b6137af7
3b1f1758 (the error report: a line, then `JSON.pretty_unparse` of the error document). Neither
RubyGems nor GitHub is reachable from the test machines, so the expected outputs below are
pinned: they are what that commit's formatters return for the same calls (checked by running
them side by side with ours; their code is not in this repository).

Where Lambkin differs on purpose: under AWS each write goes to the telemetry pipe as one framed
event; our agent splits output on "\\n", so a record's inner newlines are written as "\\r".
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

LOGGING_RB = (
    Path(__file__).resolve().parents[2] / "runtime-images/ruby/lambkin_runtime_ruby/logging.rb"
)

pytestmark = pytest.mark.skipif(shutil.which("ruby") is None, reason="needs the host's ruby")

# Loaded before every snippet: our logging, a fixed time and exceptions with fixed backtraces.
PRELUDE = f"""
require {json.dumps(str(LOGGING_RB))}
CTX = LambkinRuntime::RequestLogContext.new
T = Time.utc(2026, 11, 27, 13, 6, 32, 563412)
BOOM = RuntimeError.new("boom\\nsecond line")
BOOM.set_backtrace(["/var/task/app.rb:7:in `handler'", "/var/task/lib.rb:3:in `block in run'"])
NEWER = KeyError.new("newer frames")
NEWER.set_backtrace(["/var/task/app.rb:9:in 'Shop::Cart#total'"])
ODD = IOError.new("odd frame")
ODD.set_backtrace(["not a frame"])
BARE = ArgumentError.new("never raised")
def fmt(kind)
  (kind == :json ? LambkinRuntime::JsonLogFormatter : LambkinRuntime::TextLogFormatter).new(CTX)
end
"""


@dataclass(frozen=True)
class Output:
    stdout: str
    stderr: str


def run_ruby(snippet: str, env: dict[str, str] | None = None) -> Output:
    """Run PRELUDE + `snippet`; its output decoded as is ("\\r" stays "\\r", unlike text=True)."""
    full_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TZ": "UTC", "LANG": "C.UTF-8"}
    full_env.update(env or {})
    done = subprocess.run(
        ["ruby", "-e", PRELUDE + snippet], capture_output=True, env=full_env, timeout=60
    )
    out = Output(done.stdout.decode(), done.stderr.decode())
    assert done.returncode == 0, out
    return out


def rec(level: str, message: str, **more: object) -> dict[str, object]:
    """A JSON record's fields in aws_lambda_ric's order, at the prelude's time T."""
    head: dict[str, object] = {"timestamp": "2026-11-27T13:06:32.563412Z", "level": level}
    return {**head, "message": message, **more}


def text(line: str) -> str:
    return line.replace("<T>", "2026-11-27T13:06:32.563412")


BOOM_TRACE = ["/var/task/app.rb:7:in `handler'", "/var/task/lib.rb:3:in `block in run'"]
BOOM_FIELDS = {"errorType": "RuntimeError", "errorMessage": "boom\nsecond line"}
NEWER_FRAME = "/var/task/app.rb:9:in 'Shop::Cart#total'"
R1 = {"requestId": "r-1"}

# (format, `call`'s arguments, the request id: Ruby) -> what aws_lambda_ric's
# formatter returns for them: a JSON record (as an ordered dict), or a text line where `<T>` is
# the time and `{pid}` the process id.
FORMAT_CASES: list[tuple[str, str, str, dict[str, object] | str]] = [
    ("json", "'INFO', T, nil, 'hello'", "'r-1'", rec("INFO", "hello", **R1)),
    ("json", "'WARN', T, 'pay', 'careful'", "'r-1'", rec("WARN", "careful", **R1, logger="pay")),
    ("json", "'DEBUG', T, '', 'no name'", "'r-1'", rec("DEBUG", "no name", **R1)),
    ("json", "'INFO', T, nil, 'at init'", "nil", rec("INFO", "at init")),
    ("json", "'ANY', T, nil, {'a' => 1}", "'r-1'", rec("ANY", '{"a"=>1}', **R1)),
    ("json", "'INFO', T, nil, nil", "'r-1'", rec("INFO", "nil", **R1)),
    ("json", "'INFO', T, nil, 42", "'r-1'", rec("INFO", "42", **R1)),
    ("json", "'INFO', T, nil, \"two\\nlines\"", "'r-1'", rec("INFO", "two\nlines", **R1)),
    ("json", "'INFO', T, nil, 'unicode é ✓'", "'r-1'", rec("INFO", "unicode é ✓", **R1)),
    (
        "json",
        '\'INFO\', T, "\\xff".b, "bad \\xff".b',
        "'r-1'",
        rec("INFO", "bad \ufffd", **R1, logger="\ufffd"),
    ),
    (
        "json",
        "'ERROR', T, 'fn', BOOM",
        "'r-1'",
        rec(
            "ERROR",
            "boom\nsecond line",
            **R1,
            logger="fn",
            **BOOM_FIELDS,
            stackTrace=BOOM_TRACE,
            location="/var/task/app.rb:handler:7",
        ),
    ),
    (
        "json",
        "'FATAL', T, nil, NEWER",
        "'r-1'",
        rec(
            "FATAL",
            "newer frames",
            **R1,
            errorType="KeyError",
            errorMessage="newer frames",
            stackTrace=[NEWER_FRAME],
            location="/var/task/app.rb:Shop::Cart#total:9",
        ),
    ),
    (
        "json",
        "'ERROR', T, nil, ODD",
        "'r-1'",
        rec(
            "ERROR",
            "odd frame",
            **R1,
            errorType="IOError",
            errorMessage="odd frame",
            stackTrace=["not a frame"],
            location="not a frame",
        ),
    ),
    (
        "json",
        "'ERROR', T, nil, BARE",
        "'r-1'",
        rec(
            "ERROR",
            "never raised",
            **R1,
            errorType="ArgumentError",
            errorMessage="never raised",
            stackTrace=[],
        ),
    ),
    ("text", "'INFO', T, nil, 'hello'", "'r-1'", text("I, [<T> #{pid}]  INFO r-1 -- : hello\n")),
    ("text", "'WARN', T, 'pay', 'hm'", "'r-1'", text("W, [<T> #{pid}]  WARN r-1 -- pay: hm\n")),
    ("text", "'DEBUG', T, nil, 'at init'", "nil", text("D, [<T> #{pid}] DEBUG  -- : at init\n")),
    (
        "text",
        "'ANY', T, nil, {'a' => 1}",
        "'r-1'",
        text('A, [<T> #{pid}]   ANY r-1 -- : {"a"=>1}\n'),
    ),
    (
        "text",
        "'ERROR', T, nil, BOOM",
        "'r-1'",
        text("E, [<T> #{pid}] ERROR r-1 -- : boom\nsecond line (RuntimeError)\n")
        + "\n".join(BOOM_TRACE)
        + "\n",
    ),
    (
        "text",
        "'FATAL', T, 'p', BARE",
        "'r-1'",
        text("F, [<T> #{pid}] FATAL r-1 -- p: never raised (ArgumentError)\n\n"),
    ),
    (
        "text",
        '\'INFO\', T, "\\xff".b, "bad \\xff".b',
        "'r-1'",
        text("I, [<T> #{pid}]  INFO r-1 -- \ufffd: bad \ufffd\n"),
    ),
]


@pytest.fixture(scope="module")
def formatted() -> tuple[int, list[str]]:
    """Every FORMAT_CASES call, made in one ruby process: (its pid, the outputs in order)."""
    calls = "\n".join(
        f"CTX.request_id = {rid}; OUT << fmt(:{kind}).call({args})"
        for kind, args, rid, _ in FORMAT_CASES
    )
    done = run_ruby(f"require 'json'\nOUT = []\n{calls}\nprint JSON.generate([$$, OUT])")
    pid, outputs = json.loads(done.stdout)
    return int(pid), list(outputs)


@pytest.mark.parametrize(
    ("index", "expected"),
    [(i, case[3]) for i, case in enumerate(FORMAT_CASES)],
    ids=[f"{case[0]}-{case[1][:24]}" for case in FORMAT_CASES],
)
def test_record_is_aws_lambda_rics(
    formatted: tuple[int, list[str]], index: int, expected: dict[str, object] | str
) -> None:
    pid, outputs = formatted
    if isinstance(expected, dict):  # Ruby's JSON.generate: compact, UTF-8 as is
        assert (
            outputs[index] == json.dumps(expected, ensure_ascii=False, separators=(",", ":")) + "\n"
        )
    else:
        assert outputs[index] == expected.replace("{pid}", str(pid))


LOG_ALL = """
log = Logger.new($stdout)
%i[debug info warn error fatal].each { |level| log.public_send(level, "#{level} record") }
"""


def records(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize(
    ("level", "shown"),
    [
        ("TRACE", ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]),
        ("debug", ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]),
        ("INFO", ["INFO", "WARN", "ERROR", "FATAL"]),
        ("Warn", ["WARN", "ERROR", "FATAL"]),
        ("ERROR", ["ERROR", "FATAL"]),
        ("FATAL", ["FATAL"]),
        ("", ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]),  # unset: Logger's DEBUG
        ("VERBOSE", ["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]),  # unknown: likewise
    ],
)
def test_log_level_filters_records(level: str, shown: list[str]) -> None:
    out = run_ruby(
        "LambkinRuntime.install_logger_patch(LambkinRuntime::LogSettings.new(ENV, CTX))\n"
        "CTX.request_id = 'r-9'\n" + LOG_ALL,
        {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": level},
    ).stdout
    got = records(out)
    assert [(r["level"], r["message"]) for r in got] == [(s, f"{s.lower()} record") for s in shown]
    assert {r["requestId"] for r in got} == {"r-9"}


# (AWS_LAMBDA_LOG_FORMAT, Ruby that logs, what stdout must hold: a predicate over its lines)
LOGGER_CASES: list[tuple[str, str, str]] = [
    ("JSON", "Logger.new($stdout).info('x')", "json"),
    ("json", "Logger.new(STDOUT).info('x')", "json"),  # any case; STDOUT is $stdout
    ("Text", "Logger.new($stdout).info('x')", "text"),
    ("", "Logger.new($stdout).info('x')", "text"),
    (
        "JSON",
        "Logger.new($stdout, formatter: proc { |s, _, _, m| \"#{s}:#{m}\\n\" }).info('x')",
        "custom",
    ),
    (
        "JSON",
        'l = Logger.new($stdout); l.formatter = proc { |s, _, _, m| "#{s}:#{m}\\n" }; '
        "l.info('x')",
        "custom",
    ),
]


@pytest.mark.parametrize(("log_format", "code", "shape"), LOGGER_CASES)
def test_which_formatter_a_logger_gets(log_format: str, code: str, shape: str) -> None:
    out = run_ruby(
        "LambkinRuntime.install_logger_patch(LambkinRuntime::LogSettings.new(ENV, CTX))\n"
        "CTX.request_id = 'r-2'\n" + code,
        {"AWS_LAMBDA_LOG_FORMAT": log_format},
    ).stdout
    [line] = out.splitlines()
    if shape == "json":
        assert json.loads(line)["requestId"] == "r-2"
    elif shape == "text":
        assert line.startswith("I, [") and line.endswith("]  INFO r-2 -- : x"), line
    else:
        assert line == "INFO:x"


def test_explicit_level_and_other_devices_are_left_alone() -> None:
    out = run_ruby(
        """
LambkinRuntime.install_logger_patch(LambkinRuntime::LogSettings.new(ENV, CTX))
require 'stringio'
io = StringIO.new
own = Logger.new(io)
own.debug("multi\\nline")
puts JSON.generate([
  Logger.new($stdout).level, Logger.new($stderr).level, Logger.new(nil).level,
  Logger.new($stdout, level: :debug).level, own.level,
  own.formatter.nil?, io.string
])
""",
        {"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "ERROR"},
    ).stdout
    error, debug = 3, 0
    levels_out, levels_err, levels_nil, explicit, own, no_formatter, own_text = json.loads(out)
    assert [levels_out, levels_err, levels_nil, explicit, own] == [
        error,
        error,
        error,
        debug,
        debug,
    ]
    assert no_formatter  # a StringIO logger keeps Ruby's own formatter and its newlines
    assert own_text.endswith(" : multi\nline\n")


@pytest.mark.parametrize("log_format", ["JSON", "Text"])
def test_a_record_is_one_line_on_stdout_and_stderr(log_format: str) -> None:
    done = run_ruby(
        """
LambkinRuntime.install_logger_patch(LambkinRuntime::LogSettings.new(ENV, CTX))
Logger.new($stdout).error(BOOM)
Logger.new($stderr).warn("first\\nsecond\\n")
puts "puts is\\nleft alone"
""",
        {"AWS_LAMBDA_LOG_FORMAT": log_format},
    )
    out, err = done.stdout.split("\n"), done.stderr.split("\n")
    assert out[1:] == ["puts is", "left alone", ""]
    assert err[1:] == [""]
    if log_format == "JSON":
        assert json.loads(out[0])["stackTrace"][1] == "/var/task/lib.rb:3:in `block in run'"
        assert json.loads(err[0])["message"] == "first\nsecond\n"
    else:
        assert out[0].endswith(
            " -- : boom\rsecond line (RuntimeError)\r/var/task/app.rb:7:in `handler'\r"
            "/var/task/lib.rb:3:in `block in run'"
        ), out[0]
        assert err[0].endswith(" -- : first\rsecond\r"), err[0]  # the message's own newline too


def test_error_report_is_a_line_then_the_pretty_document() -> None:
    out = run_ruby(
        "LambkinRuntime.log_error('Error raised from handler method', "
        "{ 'errorMessage' => \"bad\\nvalue\", 'errorType' => 'Function<ArgumentError>', "
        "'stackTrace' => [\"/var/task/app.rb:2:in `handler'\"] })"
    ).stdout
    what, document, end = out.split("\n")
    assert (what, end) == ("Error raised from handler method", "")
    # JSON.pretty_unparse's text, each "\n" written as "\r": still one event, still JSON
    assert document == (
        '{\r  "errorMessage": "bad\\nvalue",\r  "errorType": "Function<ArgumentError>",\r'
        '  "stackTrace": [\r    "/var/task/app.rb:2:in `handler\'"\r  ]\r}'
    )
    assert json.loads(document)["errorType"] == "Function<ArgumentError>"
