"""The function images of tests/support/function_images.py under AWS's Runtime Interface Emulator.

An oracle for the images themselves, independent of Lambkin: each image runs with RIE (the static
binary, bind-mounted read-only) as its entrypoint in front of the image's own ENTRYPOINT and CMD,
the way Lambkin runs an image function: as uid 993 gid 990, a read-only root filesystem, a tmpfs
/tmp, the port published on 127.0.0.1 only. One container per image serves every test below.
"""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import docker
import pytest
from docker.models.containers import Container

from tests.support import function_images as fi
from tests.support.oracles import rie_binary

pytestmark = pytest.mark.docker

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
RIE_IN_CONTAINER = "/aws-lambda-rie"
TIMEOUT_S = 2
# Executable, as Lambda's /tmp is: Docker mounts a tmpfs noexec unless told otherwise, and AWS's
# Java client extracts its JNI library to /tmp and loads it from there.
TMPFS = "size=512m,mode=1777,exec"
ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "ric-image",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_TIMEOUT": str(TIMEOUT_S),
    "AWS_REGION": "eu-west-3",
}
IMAGES = fi.IMAGES


@dataclass
class RieContainer:
    image: fi.FunctionImage
    container: Container
    port: int

    def invoke_raw(self, event: Any) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request("POST", INVOKE_PATH, json.dumps(event).encode())
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def invoke(self, event: Any) -> tuple[int, Any]:
        status, body = self.invoke_raw(event)
        return status, json.loads(body)

    def logs(self) -> str:
        return bytes(self.container.logs()).decode("utf-8", "replace")

    def wait_until_listening(self, timeout: float = 15.0) -> None:
        """Until RIE answers HTTP at all (a GET elsewhere starts no invocation)."""
        deadline = time.monotonic() + timeout
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                connection.request("GET", "/")
                connection.getresponse().read()
                return
            except (OSError, http.client.HTTPException):
                self.container.reload()
                if self.container.status == "exited" or time.monotonic() > deadline:
                    raise AssertionError(f"RIE never listened:\n{self.logs()}") from None
                time.sleep(0.1)
            finally:
                connection.close()


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=120)
    yield client
    client.close()


@contextmanager
def running_under_rie(
    client: docker.DockerClient, name: str, tmpfs: str = TMPFS
) -> Iterator[RieContainer]:
    """A container of the image IMAGES[name], RIE in front of its ENTRYPOINT and CMD, as
    Lambkin runs an image function; removed on the way out, whatever happened."""
    image = IMAGES[name]()
    container = client.containers.create(
        image.tag,
        [*image.entrypoint, *image.command],
        entrypoint=[RIE_IN_CONTAINER],
        name=f"lambkin-test-rie-{name}-{uuid.uuid4().hex[:8]}",
        user="993:990",
        read_only=True,
        tmpfs={"/tmp": tmpfs},
        volumes={str(rie_binary()): {"bind": RIE_IN_CONTAINER, "mode": "ro"}},
        ports={"8080/tcp": ("127.0.0.1", 0)},  # any free port
        environment=ENV,
        labels={fi.LABEL: "rie-check"},
    )
    try:
        container.start()
        container.reload()
        published = container.ports["8080/tcp"]
        assert published, container.ports
        rie = RieContainer(image, container, int(published[0]["HostPort"]))
        rie.wait_until_listening()
        yield rie
    finally:
        container.remove(force=True)


@pytest.fixture(scope="module", params=list(IMAGES))
def rie(request: pytest.FixtureRequest, client: docker.DockerClient) -> Iterator[RieContainer]:
    with running_under_rie(client, request.param) as rie:
        yield rie


def test_echo_twice_in_one_warm_process(rie: RieContainer) -> None:
    event = {"action": "echo", "text": "héllo wörld ✓", "nested": {"list": [1, 2.5, None, True]}}
    status, first = rie.invoke(event)
    assert status == 200, (first, rie.logs())
    status, second = rie.invoke(event)
    assert status == 200, second
    assert first["event"] == second["event"] == event
    assert (first["count"], second["count"]) == (1, 2), rie.logs()  # the same process, warm
    assert first["uid"] == 993
    context = first["context"]
    assert context["function_name"] == "ric-image"
    assert context["function_version"] == "$LATEST"
    assert context["memory_limit_in_mb"] == 256
    assert len(context["aws_request_id"]) == 36 and context["aws_request_id"] in rie.logs()
    assert context["invoked_function_arn"].startswith("arn:aws:lambda:")
    assert context["log_group_name"].startswith("/aws/lambda/")  # RIE's: /aws/lambda/Functions
    assert context["log_stream_name"]
    assert 0 < context["remaining_time_ms"] <= TIMEOUT_S * 1000
    assert first["env"]["AWS_LAMBDA_FUNCTION_NAME"] == "ric-image"
    assert first["env"]["AWS_REGION"] == "eu-west-3"
    assert f"hello from {rie.image.language}" in rie.logs()


def test_error_reaches_the_invoker(rie: RieContainer) -> None:
    status, error = rie.invoke({"action": "error", "message": "the fence is down"})
    assert status == 200, error
    assert error["errorMessage"] == "the fence is down", rie.logs()
    assert error["errorType"]


def test_timeout(rie: RieContainer) -> None:
    began = time.monotonic()
    status, body = rie.invoke_raw({"action": "sleep", "seconds": TIMEOUT_S + 3})
    assert time.monotonic() - began < TIMEOUT_S + 2.5
    # This RIE answers a plain-text body (real Lambda: a Sandbox.Timedout error document).
    assert (status, body) == (200, f"Task timed out after {TIMEOUT_S}.00 seconds".encode()), (
        rie.logs()
    )
    # The runtime was killed; the next invocation starts a new one.
    status, after = rie.invoke({"action": "echo"})
    assert (status, after["count"]) == (200, 1), after


def test_java_client_needs_an_executable_tmp(client: docker.DockerClient) -> None:
    # Docker's default for a tmpfs is noexec: AWS's Java client then cannot load the JNI
    # library it extracts to /tmp, and the runtime exits before its first request.
    with running_under_rie(client, "java-ric", tmpfs="size=512m,mode=1777") as rie:
        status, body = rie.invoke_raw({"action": "echo"})
        assert status == 502, body
        assert "libaws-lambda-jni.so: failed to map segment from shared object" in rie.logs()


def test_aws_base_layout_entrypoint_without_a_runtime_api(client: docker.DockerClient) -> None:
    image = fi.aws_base_layout_image()
    assert (image.entrypoint, image.command) == (["/lambda-entrypoint.sh"], ["app.handler"])
    container = client.containers.create(image.tag, user="993:990", read_only=True)
    try:
        container.start()
        assert container.wait(timeout=30)["StatusCode"] == 1
        assert b"AWS_LAMBDA_RUNTIME_API is not set" in bytes(container.logs())
    finally:
        container.remove(force=True)
