"""Container-image functions (PackageType Image) through boto3, on the docker driver: the API's
answers, what an instance of an image runs and how, pinning by digest, and the refusals."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest
from botocore.exceptions import ClientError

from orchestrator.drivers.docker_images import PIN_REPOSITORY
from orchestrator.images import BASE_IMAGE
from tests.support.docker_build import build_image
from tests.support.server import Client, Server, start_server

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
RUNTIME = (Path(__file__).parent / "image_function" / "runtime.py").read_text()
REPOSITORY = "lambkin-test/image-function"
RETAGGED = "lambkin-test/image-function-retagged:latest"
INVALID = "InvalidParameterValueException"


def dockerfile(user: str = "0") -> str:
    # USER root, a WORKDIR and an ENV: what a user's image may well say.
    return f"""FROM {BASE_IMAGE}
COPY runtime.py /app/runtime.py
WORKDIR /app
ENV GREETING=from-image PATH=/usr/bin:/bin
USER {user}
ENTRYPOINT ["python3", "/app/runtime.py"]
CMD ["first", "second"]
"""


def build(version: str) -> str:
    client = docker.from_env()
    try:
        files = {"Dockerfile": dockerfile(), "runtime.py": RUNTIME.replace("@VERSION@", version)}
        return build_image(client, REPOSITORY, files)
    finally:
        client.close()


@pytest.fixture(scope="module")
def images() -> Iterator[dict[str, str]]:
    built = {"v1": build("v1"), "v2": build("v2")}
    yield built
    client = docker.from_env()
    for tag in [*built.values(), RETAGGED]:
        try:
            client.images.remove(tag)
        except docker.errors.APIError:
            pass  # still pinned by a function of a server being stopped, or already gone
    client.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("image-functions"))
    yield srv
    assert srv.stop() == 0, srv.log()


def invoke(client: Client, name: str, event: dict[str, Any] | None = None) -> dict[str, Any]:
    answer = client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    payload: dict[str, Any] = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    return payload


def error_of(call: Any, **kwargs: Any) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def create(client: Client, name: str, uri: str, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = client.create_function(
        FunctionName=name, PackageType="Image", Code={"ImageUri": uri}, Role=ROLE, **extra
    )
    return answer


def image_id(tag: str) -> str:
    client = docker.from_env()
    try:
        return str(client.images.get(tag).id)
    finally:
        client.close()


def test_an_image_function_is_created_and_described_as_aws_describes_it(
    server: Server, images: dict[str, str]
) -> None:
    client = server.client()
    created = create(client, "img-describe", images["v1"], MemorySize=256)
    digest = image_id(images["v1"]).removeprefix("sha256:")
    assert created["PackageType"] == "Image"
    assert "Runtime" not in created and "Handler" not in created
    assert created["CodeSha256"] == digest and created["CodeSize"] == 0
    assert created["ImageConfigResponse"] == {}
    got = client.get_function(FunctionName="img-describe")
    assert got["Code"] == {
        "RepositoryType": "ECR",
        "ImageUri": images["v1"],
        "ResolvedImageUri": f"{REPOSITORY}@sha256:{digest}",
    }
    listed = client.list_functions()["Functions"]
    assert [f["PackageType"] for f in listed if f["FunctionName"] == "img-describe"] == ["Image"]


def test_the_image_runs_its_own_command_as_the_functions_user_with_lambdas_environment(
    server: Server, images: dict[str, str]
) -> None:
    client = server.client()
    create(client, "img-run", images["v1"], Environment={"Variables": {"MINE": "yes"}})
    names = ["GREETING", "MINE", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_RUNTIME_API", "TZ",
             "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]  # fmt: skip
    first = invoke(client, "img-run", {"env": names})
    assert first["version"] == "v1"
    assert first["argv"] == ["first", "second"] and first["cwd"] == "/app"
    env = first["env"]
    assert env["GREETING"] == "from-image" and env["MINE"] == "yes"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "img-run" and env["TZ"] == ":UTC"
    assert env["AWS_LAMBDA_RUNTIME_API"] and env["_HANDLER"] == "first"
    assert (
        env["LAMBDA_TASK_ROOT"] == "/var/task" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    )
    # The image said USER 0: it still runs as the function's user, with nothing more.
    assert (first["uid"], first["gid"]) == (993, 990)
    assert first["cap_eff"] == "0000000000000000" and first["no_new_privs"] == "1"
    assert not first["root_writable"] and not first["app_writable"] and first["tmp_writable"]
    assert first["tmp_executable"]  # as on Lambda (Docker's tmpfs default is noexec)
    assert invoke(client, "img-run")["count"] == 2  # init once, then warm
    logged = server.log_messages("img-run", "image function v1 serving")
    assert any("image function v1 serving" in m for m in logged), logged


def test_image_config_replaces_the_images_command_entry_point_and_workdir(
    server: Server, images: dict[str, str]
) -> None:
    client = server.client()
    settings = {"Command": ["from", "config"], "WorkingDirectory": "/tmp"}
    created = create(client, "img-config", images["v1"], ImageConfig=settings)
    assert created["ImageConfigResponse"] == {"ImageConfig": settings}
    ran = invoke(client, "img-config", {"env": ["_HANDLER"]})
    assert (ran["argv"], ran["cwd"], ran["env"]["_HANDLER"]) == (["from", "config"], "/tmp", "from")
    # A new entry point keeps the image's CMD unless Command is set too (Lambda's rule).
    entry = {"EntryPoint": ["python3", "-u", "/app/runtime.py"]}
    updated = client.update_function_configuration(FunctionName="img-config", ImageConfig=entry)
    assert updated["ImageConfigResponse"] == {"ImageConfig": entry}
    ran = invoke(client, "img-config")
    assert (ran["argv"], ran["cwd"], ran["count"]) == (["first", "second"], "/app", 1)


def test_a_function_keeps_its_image_when_the_tag_moves_or_goes(
    server: Server, images: dict[str, str]
) -> None:
    engine = docker.from_env()
    client = server.client()
    engine.images.get(images["v1"]).tag(RETAGGED)
    create(client, "img-pinned", RETAGGED)
    resolved = client.get_function(FunctionName="img-pinned")["Code"]["ResolvedImageUri"]
    assert invoke(client, "img-pinned")["version"] == "v1"
    # The tag now names another build, then nothing at all: a new instance still runs v1.
    engine.images.get(images["v2"]).tag(RETAGGED)
    engine.images.remove(RETAGGED)
    client.update_function_configuration(
        FunctionName="img-pinned", Environment={"Variables": {"NEW": "instance"}}
    )
    again = invoke(client, "img-pinned")
    assert (again["version"], again["count"]) == ("v1", 1)
    assert client.get_function(FunctionName="img-pinned")["Code"]["ResolvedImageUri"] == resolved
    # UpdateFunctionCode points it at the tag's new image.
    engine.images.get(images["v2"]).tag(RETAGGED)
    updated = client.update_function_code(FunctionName="img-pinned", ImageUri=RETAGGED)
    assert updated["CodeSha256"] == image_id(images["v2"]).removeprefix("sha256:")
    assert invoke(client, "img-pinned")["version"] == "v2"
    client.delete_function(FunctionName="img-pinned")
    engine.close()


def test_the_pin_goes_with_the_last_function_of_an_image(server: Server) -> None:
    tag = build("v3")
    pin = f"{PIN_REPOSITORY}:{image_id(tag).removeprefix('sha256:')}"
    engine = docker.from_env()
    try:
        client = server.client()
        create(client, "img-pin-a", tag)
        create(client, "img-pin-b", tag)
        assert pin in engine.images.get(tag).tags
        client.delete_function(FunctionName="img-pin-a")
        assert pin in engine.images.get(tag).tags  # img-pin-b still runs it
        client.delete_function(FunctionName="img-pin-b")
        assert pin not in engine.images.get(tag).tags
        engine.images.remove(tag)
    finally:
        engine.close()


@pytest.mark.parametrize(
    ("extra", "code", "fragment"),
    [
        ({"Runtime": "python3.11"}, INVALID, "Please don't provide Handler"),
        ({"Handler": "app.handler"}, INVALID, "Please don't provide Handler"),
        ({"ImageConfig": {"WorkingDirectory": "relative"}}, "ValidationException", "workingDir"),
    ],
)  # fmt: skip
def test_image_function_settings_are_checked(
    server: Server, images: dict[str, str], extra: dict[str, Any], code: str, fragment: str
) -> None:
    status, error, message = error_of(
        server.client().create_function,
        FunctionName="img-refused",
        PackageType="Image",
        Code={"ImageUri": images["v1"]},
        Role=ROLE,
        **extra,
    )
    assert (status, error) == (400, code)
    assert fragment in message


def test_an_image_that_is_nowhere_is_refused_with_what_to_do(server: Server) -> None:
    status, code, message = error_of(
        create, client=server.client(), name="img-missing", uri="lambkin-test/not-built:1"
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message.startswith("Source image lambkin-test/not-built:1 is not valid.")
    assert "pulling it failed" in message and "docker build" in message
    assert "img-missing" not in [
        f["FunctionName"] for f in server.client().list_functions()["Functions"]
    ]


def test_code_kinds_do_not_mix(server: Server, images: dict[str, str]) -> None:
    client = server.client()
    create(client, "img-kinds", images["v1"])
    _, code, message = error_of(
        client.update_function_code, FunctionName="img-kinds", ZipFile=b"PK\x05\x06" + b"\0" * 18
    )
    assert (code, message) == (
        "InvalidParameterValueException",
        "Please provide ImageUri when updating a function with packageType Image.",
    )
    _, code, message = error_of(
        client.update_function_configuration, FunctionName="img-kinds", Runtime="python3.11"
    )
    assert "Please don't provide Handler or Runtime" in message
    # ...and the function is as it was.
    assert invoke(client, "img-kinds")["version"] == "v1"


def test_an_image_over_the_size_limit_is_refused(tmp_path: Path, images: dict[str, str]) -> None:
    srv = start_server("docker", tmp_path, env={"LAMBKIN_MAX_IMAGE_BYTES": "1000000"})
    try:
        status, code, message = error_of(
            create, client=srv.client(), name="img-big", uri=images["v1"]
        )
        assert (status, code) == (400, "InvalidParameterValueException")
        assert "exceeds the maximum allowed image size of 1000000 bytes" in message
    finally:
        assert srv.stop() == 0, srv.log()


def test_the_process_driver_says_image_functions_need_docker(
    tmp_path: Path,
) -> None:
    srv = start_server("process", tmp_path)
    try:
        status, code, message = error_of(
            create, client=srv.client(), name="img-process", uri="lambkin-test/any:1"
        )
        assert (status, code) == (400, "InvalidParameterValueException")
        assert "--driver docker" in message
    finally:
        assert srv.stop() == 0, srv.log()


def test_lambkin_deploy_takes_an_image(server: Server, images: dict[str, str]) -> None:
    def lambkin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "orchestrator", *args, "--endpoint", server.endpoint],
            capture_output=True,
            text=True,
            timeout=60,
        )

    created = lambkin("deploy", "img-cli", "--image", images["v1"], "--memory", "256")
    assert created.returncode == 0, created.stderr + created.stdout
    said = " ".join((created.stdout + created.stderr).split())  # the console wraps long lines
    assert f"deployed img-cli (image, CodeSha256 {image_id(images['v1'])[7:]})" in said
    client = server.client()
    assert invoke(client, "img-cli")["version"] == "v1"
    assert client.get_function_configuration(FunctionName="img-cli")["MemorySize"] == 256
    updated = lambkin("deploy", "img-cli", "--image", images["v2"])
    assert updated.returncode == 0, updated.stderr + updated.stdout
    assert invoke(client, "img-cli")["version"] == "v2"
    both = lambkin("deploy", "img-cli", "some-dir", "--image", images["v2"])
    assert both.returncode == 2 and "either the code" in both.stdout + both.stderr
    client.delete_function(FunctionName="img-cli")
