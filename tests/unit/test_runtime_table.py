"""The runtime table's texts: `lambkin runtimes`' language column (the first line of each version
command, on one line; the script runs under the host's /bin/sh here, in one container in an
image), and why the identifiers Lambkin cannot build are refused, and where to go instead.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from orchestrator import validation
from orchestrator.errors import LambdaError
from orchestrator.images_cli import version_line, version_script
from orchestrator.runtimes import README_IMAGE_RECIPES, RUNTIMES, unbuildable_reason
from tests.support.server import REPO_ROOT


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


@pytest.mark.parametrize(
    ("identifier", "language", "client"),
    [
        ("dotnet8", ".NET", "Amazon.Lambda.RuntimeSupport"),
        ("dotnet6", ".NET", "Amazon.Lambda.RuntimeSupport"),
        ("dotnetcore3.1", ".NET", "Amazon.Lambda.RuntimeSupport"),
        ("powershell", "PowerShell", "AWS's PowerShell runtime"),
        ("PowerShell7", "PowerShell", "AWS's PowerShell runtime"),
    ],
)
def test_unbuildable_runtimes_point_to_container_images(
    identifier: str, language: str, client: str
) -> None:
    with pytest.raises(LambdaError) as refused:
        validation.configuration(
            {"FunctionName": "f", "Runtime": identifier, "Role": "r", "Handler": "h"},
            ["python3.11"],
            creating=True,
        )
    reason = unbuildable_reason(identifier)
    assert refused.value.code.value == "InvalidParameterValueException"
    assert reason is not None and refused.value.message.endswith(reason)
    assert reason.startswith(f"{language} ") and "packaged for Debian" in reason
    if language == ".NET":  # C# code has a zip runtime of its own: Mono's
        assert "mono6.12" in reason and "container-image functions" in reason
    assert "PackageType=Image" in reason and client in reason
    assert f'README section "{README_IMAGE_RECIPES}"' in reason
    assert "once container-image functions exist" not in reason


def test_the_readme_section_the_refusals_name_exists() -> None:
    readme = (REPO_ROOT / "README.md").read_text()
    assert re.search(rf"^#+ {re.escape(README_IMAGE_RECIPES)}$", readme, re.MULTILINE)


@pytest.mark.parametrize("identifier", ["python3.11", "nodejs18.x", "java17", "go1.x", None, 8])
def test_other_identifiers_have_no_unbuildable_reason(identifier: object) -> None:
    assert unbuildable_reason(identifier) is None


def test_an_image_prefix_names_every_runtime_image_under_it() -> None:
    from orchestrator.images import RUNTIME_IMAGES
    from orchestrator.runtimes import RUNTIMES
    from orchestrator.settings import Settings

    assert Settings().image_prefix == "lambkin"
    for spec in RUNTIMES.values():
        assert spec.image_for("lambkin") == spec.image
        assert spec.image_for("lambkin-streaming").startswith("lambkin-streaming/")
    assert RUNTIME_IMAGES["nodejs18.x"].tag_for("x-y") == "x-y/nodejs18.x"
    assert RUNTIMES["nodejs18.x"].image_for("x-y") == RUNTIME_IMAGES["nodejs18.x"].tag_for("x-y")
