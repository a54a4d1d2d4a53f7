"""Container-image functions as pure logic: references, what an instance runs, the API's rules."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import validation
from orchestrator.container_images import (
    ImageSettings,
    ResolvedImage,
    image_env,
    image_environment,
    parse_image_reference,
    runtime_command,
    validate_image_config,
    working_directory,
)
from orchestrator.errors import LambdaError, LambdaErrorCode
from orchestrator.function_config import FunctionConfig

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("app", ("app", None, None)),
        ("app:latest", ("app", "latest", None)),
        ("team/app:1.2.3", ("team/app", "1.2.3", None)),
        ("localhost:5000/app:v1", ("localhost:5000/app", "v1", None)),
        (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo:tag",
            ("123456789012.dkr.ecr.us-east-1.amazonaws.com/repo", "tag", None),
        ),
        (f"app@{DIGEST}", ("app", None, DIGEST)),
        (f"app:v1@{DIGEST}", ("app", "v1", DIGEST)),
        ("lambkin-test/awslambdaric:0123abcd", ("lambkin-test/awslambdaric", "0123abcd", None)),
    ],
)
def test_image_references_are_parsed(uri: str, parts: tuple[str, str | None, str | None]) -> None:
    reference = parse_image_reference(uri)
    assert reference is not None
    assert (reference.name, reference.tag, reference.digest) == parts


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "App",  # upper case is not a repository name
        "-app",  # would read as an option
        "app:",
        "app latest",
        "app\n",
        "app:v1;rm -rf /",
        "app@sha256:short",
        "../app",
        "a" * 300,
        "app:" + "t" * 129,
    ],
)
def test_what_is_not_an_image_reference(uri: str) -> None:
    assert parse_image_reference(uri) is None


IMAGE = ResolvedImage(
    uri="app:1",
    resolved_uri=f"app@{DIGEST}",
    image_id=DIGEST,
    size=1,
    entry_point=("/lambda-entrypoint.sh",),
    command=("app.handler",),
    working_dir="/var/task",
    env={"PATH": "/var/lang/bin:/usr/bin", "LAMBDA_TASK_ROOT": "/var/task", "FROM_IMAGE": "1"},
)


@pytest.mark.parametrize(
    ("settings", "command", "cwd"),
    [
        (ImageSettings(), ["/lambda-entrypoint.sh", "app.handler"], "/var/task"),
        (ImageSettings(command=("b.h",)), ["/lambda-entrypoint.sh", "b.h"], "/var/task"),
        # Unlike `docker run --entrypoint`, a new entry point keeps the image's CMD.
        (ImageSettings(entry_point=("/main",)), ["/main", "app.handler"], "/var/task"),
        (ImageSettings(entry_point=("/main",), command=()), ["/main"], "/var/task"),
        (ImageSettings(working_directory="/srv"), ["/lambda-entrypoint.sh", "app.handler"], "/srv"),
    ],
)  # fmt: skip
def test_what_an_instance_runs(settings: ImageSettings, command: list[str], cwd: str) -> None:
    assert runtime_command(IMAGE, settings) == command
    assert working_directory(IMAGE, settings) == cwd


def test_an_image_without_workdir_runs_in_the_root() -> None:
    bare = ResolvedImage(uri="x", resolved_uri=f"x@{DIGEST}", image_id=DIGEST, size=0)
    assert working_directory(bare, ImageSettings()) == "/"
    assert runtime_command(bare, ImageSettings()) == []


def test_environment_layers_image_then_lambda_then_function() -> None:
    lambda_env = {"PATH": "/usr/local/bin:/usr/bin", "LAMBDA_TASK_ROOT": "/var/task", "TZ": ":UTC",
                  "AWS_REGION": "us-east-1", "FROM_IMAGE": "lambda's"}  # fmt: skip
    env = image_environment(IMAGE.env, lambda_env, {"MINE": "x", "PATH": "/mine"})
    assert env["FROM_IMAGE"] == "lambda's"  # an image cannot shadow Lambda's own variables...
    assert env["TZ"] == ":UTC" and env["AWS_REGION"] == "us-east-1"
    assert env["LAMBDA_TASK_ROOT"] == "/var/task"
    assert env["MINE"] == "x" and env["PATH"] == "/mine"  # ...and the function's win over all
    env = image_environment(IMAGE.env, lambda_env, {})
    assert env["PATH"] == "/var/lang/bin:/usr/bin"  # ...but may set its own PATH


def test_image_env_pairs() -> None:
    assert image_env(["A=1", "B=x=y", "C=", "D"]) == {"A": "1", "B": "x=y", "C": "", "D": ""}
    assert image_env(None) == {}


@pytest.mark.parametrize(
    "value",
    [
        "x",
        {"EntryPoint": "not a list"},
        {"Command": [1]},
        {"Command": ["a\x00b"]},
        {"WorkingDirectory": "relative/dir"},
        {"WorkingDirectory": "/" + "d" * 1000},
        {"EntryPoint": ["x"] * 1501},
    ],
)
def test_bad_image_configs_fail_validation(value: Any) -> None:
    with pytest.raises(LambdaError) as raised:
        validate_image_config(value)
    assert raised.value.code is LambdaErrorCode.VALIDATION


ROLE = "arn:aws:iam::123456789012:role/r"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"Runtime": "python3.11"}, validation.IMAGE_TAKES_NO_RUNTIME),
        ({"Handler": "app.handler"}, validation.IMAGE_TAKES_NO_RUNTIME),
        ({"Layers": ["arn:aws:lambda:us-east-1:1:layer:x:1"]}, validation.IMAGE_TAKES_NO_RUNTIME),
    ],
)  # fmt: skip
def test_an_image_function_takes_no_runtime(body: dict[str, Any], message: str) -> None:
    with pytest.raises(LambdaError) as raised:
        validation.configuration({"Role": ROLE, **body}, [], creating=True, package="Image")
    assert (raised.value.code, raised.value.message) == (
        LambdaErrorCode.INVALID_PARAMETER_VALUE,
        message,
    )


def test_an_image_function_needs_no_runtime() -> None:
    fields = validation.configuration(
        {"Role": ROLE, "ImageConfig": {"Command": ["x"]}}, [], creating=True, package="Image"
    )
    assert fields == {"role": ROLE, "image_settings": ImageSettings(command=("x",))}


@pytest.mark.parametrize(
    ("code", "fragment"),
    [
        (None, "Please provide a source for function code."),
        ({}, "Please provide a source for function code."),
        ({"ImageUri": "Not An Image"}, "Source image Not An Image is not valid."),
        ({"ImageUri": 5}, "Source image 5 is not valid."),
        ({"ImageUri": "app", "ZipFile": "UEs="}, "give the image as ImageUri only"),
    ],
)
def test_image_uri_is_required_and_checked(code: Any, fragment: str) -> None:
    with pytest.raises(LambdaError) as raised:
        validation.image_uri(code)
    assert raised.value.code is LambdaErrorCode.INVALID_PARAMETER_VALUE
    assert fragment in raised.value.message


def test_package_type_is_an_enum() -> None:
    assert validation.package_type({}) == "Zip"
    with pytest.raises(LambdaError) as raised:
        validation.package_type({"PackageType": "image"})
    assert raised.value.code is LambdaErrorCode.VALIDATION


def test_an_image_function_is_stored_and_rendered_as_aws_renders_it() -> None:
    config = FunctionConfig(
        name="f", runtime="", handler="", role=ROLE, code_sha256_hex="ab" * 32,
        code_sha256="ab" * 32, code_size=0, package_type="Image", image=IMAGE,
        image_settings=ImageSettings(command=("other.handler",)),
    )  # fmt: skip
    assert FunctionConfig.from_json(config.to_json()) == config
    rendered = config.render("us-east-1", "123456789012")
    assert "Runtime" not in rendered and "Handler" not in rendered
    assert rendered["PackageType"] == "Image"
    assert rendered["ImageConfigResponse"] == {"ImageConfig": {"Command": ["other.handler"]}}
    assert rendered["CodeSha256"] == "ab" * 32 and rendered["CodeSize"] == 0
    assert config.render_code("unused") == {
        "RepositoryType": "ECR", "ImageUri": "app:1", "ResolvedImageUri": f"app@{DIGEST}",
    }  # fmt: skip
    plain = FunctionConfig.from_json({**config.to_json(), "image_settings": {}})
    assert plain.render("us-east-1", "123456789012")["ImageConfigResponse"] == {}


def test_a_zip_function_stored_before_images_existed_still_loads() -> None:
    old = {"name": "f", "runtime": "python3.11", "handler": "app.handler", "role": ROLE,
           "code_sha256_hex": "00", "code_sha256": "AA==", "code_size": 1}  # fmt: skip
    config = FunctionConfig.from_json(old)
    assert config.package_type == "Zip" and config.image is None
    assert config.render_code("http://x/code.zip") == {
        "RepositoryType": "S3",
        "Location": "http://x/code.zip",
    }
