"""Our Java client's function logger against AWS's (aws-lambda-java-runtime-interface-client, the
version function_images pins): the same calls, in every LogFormat and at several
AWS_LAMBDA_LOG_LEVELs, must print the same bytes.

A small JVM harness (functions/java_log_format/LogHarness.java) drives either AWS's
LambdaContextLogger over its StdOutLogSink (with its UserFault report of a function error, as its
runtime loop logs it) or our dev.lambkin.runtime.ContextLogger: levelled and unlevelled records,
multi-line and escaped messages, byte[] records, a System.out line, a request id that changes, and
two function errors. Only JSON timestamps differ; they are checked for AWS's format, then masked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestrator.images import build_host_java_client
from tests.support.function_images import JAVA_CORE_VERSION, java_ric_jars

HARNESS = Path(__file__).parent / "functions" / "java_log_format" / "LogHarness.java"
TIMESTAMP = re.compile(r'"timestamp":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"')

pytestmark = pytest.mark.skipif(shutil.which("javac") is None, reason="needs a JDK")


@pytest.fixture(scope="module")
def classpaths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("java-log-format")
    ric = java_ric_jars()
    classes = root / "harness"
    core = ric / f"aws-lambda-java-core-{JAVA_CORE_VERSION}.jar"
    javac = ["javac", "--release", "17", "-nowarn", "-cp", str(core), "-d", str(classes)]
    subprocess.run([*javac, str(HARNESS)], check=True)
    ours = root / "client"
    assert build_host_java_client(out=ours)
    return {"ric": f"{classes}:{ric}/*", "lambkin": f"{classes}:{ours}/*"}


def _run(classpath: str, client: str, log_format: str, level: str) -> str:
    result = subprocess.run(
        ["java", "-cp", classpath, "LogHarness", client, log_format, level],
        capture_output=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "LANG": "C.UTF-8"},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    return result.stdout.decode()


@pytest.mark.parametrize("log_format", ["JSON", "TEXT"])
@pytest.mark.parametrize("level", ["UNDEFINED", "TRACE", "DEBUG", "INFO", "WARN", "FATAL"])
def test_same_output_as_awss_client(
    classpaths: dict[str, str], log_format: str, level: str
) -> None:
    theirs, ours = (_run(classpaths[c], c, log_format, level) for c in ("ric", "lambkin"))
    assert "plain System.out line\n" in theirs  # the harness really ran
    if log_format == "JSON":
        assert TIMESTAMP.search(theirs) and TIMESTAMP.search(ours)
    masked = [TIMESTAMP.sub('"timestamp":"T"', text) for text in (theirs, ours)]
    assert masked[1].splitlines(keepends=True) == masked[0].splitlines(keepends=True)
