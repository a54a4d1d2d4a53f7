"""`lambkin runtimes`' language column: the first line of each version command, on one line.

The script runs under the host's /bin/sh here; in an image it runs the same way, in one container.
"""

from __future__ import annotations

import subprocess

import pytest

from orchestrator.images_cli import version_line, version_script
from orchestrator.runtimes import RUNTIMES


@pytest.mark.parametrize(
    ("commands", "line"),
    [
        ([("echo", "Python 3.11.2")], "Python 3.11.2"),
        ([("echo", "Python 3.11.2"), ("echo", "boto3 1.26.27")], "Python 3.11.2, boto3 1.26.27"),
        # Only the first line of each, from stdout or stderr (java -version writes to stderr).
        ([("sh", "-c", "echo 'openjdk 17' >&2; echo more >&2")], "openjdk 17"),
        ([("printf", "a\\nb\\n"), ("printf", "c\\nd\\n")], "a, c"),
        # Quoting survives: a command that is itself a script, with quotes and $( ).
        ([("sh", "-c", 'echo "it\'s $(echo ok)"')], "it's ok"),
        ([("true",), ("echo", "x")], "x"),  # a command that prints nothing leaves no gap
    ],
)
def test_version_script_keeps_each_first_line(commands: list[tuple[str, ...]], line: str) -> None:
    output = subprocess.run(["sh", "-c", version_script(commands)], capture_output=True, check=True)
    assert version_line(output.stdout) == line


def test_python_reports_boto3_beside_the_language() -> None:
    python = RUNTIMES["python3.11"]
    assert python.version_command == ("python3", "--version")
    assert any("boto3.__version__" in " ".join(c) for c in python.library_versions)
