"""AWS's own runtime interface clients, unmodified, as container-image functions: boto3 ->
control plane -> agent (mounted into the image) -> the image's client. The same images pass the
same contract under AWS's emulator (test_function_images_under_rie.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import docker
import docker.errors
import pytest

from tests.support import function_images as fi
from tests.support.server import Client, Server, start_server

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
TIMEOUT_S = 2
IMAGES = fi.IMAGES


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("aws-clients-in-images"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module", params=list(IMAGES))
def function(request: pytest.FixtureRequest, server: Server) -> tuple[str, fi.FunctionImage]:
    image = IMAGES[request.param]()
    name = f"image-{request.param}"
    server.client().create_function(
        FunctionName=name,
        PackageType="Image",
        Code={"ImageUri": image.tag},
        Role=ROLE,
        Timeout=TIMEOUT_S,
        MemorySize=256,
    )
    return name, image


def invoke(client: Client, name: str, event: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return response, json.loads(response["Payload"].read())


def test_the_client_serves_events_warm_with_lambdas_context(
    server: Server, function: tuple[str, fi.FunctionImage]
) -> None:
    name, image = function
    client = server.client()
    event = {"action": "echo", "text": "héllo wörld ✓", "nested": {"list": [1, 2.5, None, True]}}
    response, first = invoke(client, name, event)
    assert "FunctionError" not in response, first
    _, second = invoke(client, name, event)
    assert first["event"] == second["event"] == event
    assert (first["count"], second["count"]) == (1, 2)  # one process, init once, then warm
    assert first["uid"] == 993
    context = first["context"]
    assert context["aws_request_id"] == response["ResponseMetadata"]["RequestId"]
    assert context["function_name"] == name and context["function_version"] == "$LATEST"
    assert context["memory_limit_in_mb"] == 256
    assert (
        context["invoked_function_arn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    )
    assert context["log_group_name"] == f"/aws/lambda/{name}"
    assert context["log_stream_name"].startswith(time.strftime("%Y/%m/%d/[$LATEST]", time.gmtime()))
    assert 0 < context["remaining_time_ms"] <= TIMEOUT_S * 1000
    assert first["env"]["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert first["env"]["AWS_REGION"] == "us-east-1"
    logged = server.log_messages(name, f"hello from {image.language}")
    assert any(f"hello from {image.language}" in m for m in logged), logged


def test_an_error_reaches_the_caller_as_the_client_shaped_it(
    server: Server, function: tuple[str, fi.FunctionImage]
) -> None:
    name, _ = function
    response, error = invoke(
        server.client(), name, {"action": "error", "message": "the fence is down"}
    )
    assert response["FunctionError"] == "Unhandled"
    assert error["errorMessage"] == "the fence is down" and error["errorType"], error


def test_a_timeout_is_lambdas_and_the_next_event_gets_a_new_runtime(
    server: Server, function: tuple[str, fi.FunctionImage]
) -> None:
    name, _ = function
    client = server.client()
    began = time.monotonic()
    response, error = invoke(client, name, {"action": "sleep", "seconds": TIMEOUT_S + 3})
    assert time.monotonic() - began < TIMEOUT_S + 2.5
    assert response["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Sandbox.Timedout", error
    assert error["errorMessage"].endswith(f"Task timed out after {TIMEOUT_S:.2f} seconds")
    response, after = invoke(client, name, {"action": "echo"})
    assert "FunctionError" not in response and after["count"] == 1, after


def test_the_go_image_has_neither_a_shell_nor_python() -> None:
    image = fi.go_scratch_image()
    client = docker.from_env()
    container = client.containers.create(image.tag)
    try:
        for path in ("/bin/sh", "/usr/bin/sh", "/bin/bash", "/usr/bin/python3", "/usr/bin/env"):
            with pytest.raises(docker.errors.NotFound):
                container.get_archive(path)
    finally:
        container.remove(force=True)
        client.close()
