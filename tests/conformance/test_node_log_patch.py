"""Our Node.js client's console.* and error logs against aws-lambda-ric's own LogPatch (the
oracle: its bundle, fetched with npm at test time, tests/support/function_images.py): the same
sequence of calls (functions/node_log_scenario.mjs) through each patch, under the same
AWS_LAMBDA_LOG_FORMAT / AWS_LAMBDA_LOG_LEVEL, must write the same lines, byte for byte once
timestamps and the patches' own stack frames are set aside (so field names and order too)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.function_images import aws_lambda_ric_source

REPO = Path(__file__).resolve().parents[2]
SCENARIO = REPO / "tests" / "conformance" / "functions" / "node_log_scenario.mjs"
OURS = REPO / "runtime-images" / "nodejs" / "lambkin_runtime_node"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")

# (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL); None: unset.
ENVIRONMENTS = [
    ("JSON", None),
    ("JSON", "TRACE"),
    ("JSON", "INFO"),
    ("JSON", "WARN"),
    ("JSON", "ERROR"),
    ("JSON", "FATAL"),
    ("json", "debug"),
    ("JSON", "VERBOSE"),
    (None, None),
    ("Text", None),
    ("TEXT", "WARN"),
    ("Text", "FATAL"),
]


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """aws-lambda-ric's bundle up to its entry point (its modules, nothing run), exporting
    the LogPatch and Errors modules."""
    source = aws_lambda_ric_source()
    entry = "\n// index.mjs\n"
    assert entry in source and '"LogPatch.js"(exports, module)' in source, (
        "aws-lambda-ric's bundle no longer has a LogPatch module before its entry point"
    )
    path = tmp_path_factory.mktemp("ric") / "log_patch.mjs"
    path.write_text(
        source[: source.index(entry)]
        + "\nexport const LogPatch = require_LogPatch();\nexport const Errors = require_Errors();\n"
    )
    return path


def run(which: str, where: Path, log_format: str | None, log_level: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA_", "_LAMBDA_"))}
    if log_format is not None:
        env["AWS_LAMBDA_LOG_FORMAT"] = log_format
    if log_level is not None:
        env["AWS_LAMBDA_LOG_LEVEL"] = log_level
    done = subprocess.run(
        ["node", str(SCENARIO), which, str(where)],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0 and not done.stderr, (which, done.stderr)
    out = done.stdout.decode()  # not as text: a record's `\r` must reach us as it is
    assert out.endswith("\n")
    frames = re.compile(r'"    at [^"]*' + re.escape(str(where)) + r'[^"]*"')
    return [frames.sub('"<runtime frame>"', line) for line in out.split("\n")[:-1]]


def without_timestamps(lines: list[str]) -> list[str]:
    for line in lines:
        assert TIMESTAMP.search(line), line
    return [TIMESTAMP.sub("<time>", line, count=1) for line in lines]


@pytest.mark.parametrize(("log_format", "log_level"), ENVIRONMENTS)
def test_our_console_writes_what_aws_lambda_ric_writes(
    oracle: Path, log_format: str | None, log_level: str | None
) -> None:
    theirs = without_timestamps(run("oracle", oracle, log_format, log_level))
    ours = without_timestamps(run("ours", OURS, log_format, log_level))
    json_mode = (log_format or "").upper() == "JSON"
    threshold = (log_level or "TRACE").upper()
    allowed = LEVELS[LEVELS.index(threshold) if threshold in LEVELS else 0 :]
    levels = [level_of(line, json_mode) for line in theirs]
    assert levels and set(levels) <= set(allowed), levels  # the oracle filters as we expect
    assert "FATAL" in levels  # console.fatal is never filtered
    for their_line, our_line in zip(theirs, ours, strict=False):
        if json_mode:  # field for field first: the clearer failure
            assert json.loads(our_line) == json.loads(their_line)
        assert our_line == their_line
    assert len(ours) == len(theirs), (ours, theirs)


def level_of(line: str, json_mode: bool) -> str:
    if json_mode:
        record = json.loads(line)
        assert list(record)[:2] == ["timestamp", "level"], record
        return str(record["level"])
    return line.split("\t")[2]
