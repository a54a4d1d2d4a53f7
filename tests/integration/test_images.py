"""Runtime images as `make images` built them: current, configured, able to start the agent.

Nothing here builds an image: a missing or stale one fails with what to run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from orchestrator import images
from orchestrator.images import RUNTIME_IMAGES, ImageStatus

pytestmark = pytest.mark.docker

RUNTIMES = list(RUNTIME_IMAGES)


@pytest.fixture(scope="module")
def client() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=30)
    yield client
    client.close()


@pytest.fixture
def run(client: docker.DockerClient) -> Iterator[Any]:
    """Starts containers detached and removes them afterwards, whatever happens."""
    started: list[Any] = []

    def start(image: str, **kwargs: Any) -> Any:
        container = client.containers.run(
            image, detach=True, labels={"org.lambkin.test": "test_images"}, **kwargs
        )
        started.append(container)
        return container

    yield start
    for container in started:
        container.remove(force=True)


def wait_for_stdout_json(container: Any, key: str, timeout_s: float = 15.0) -> dict[str, Any]:
    """The first JSON object with `key` that the container prints on stdout."""
    deadline = time.monotonic() + timeout_s
    while True:
        container.reload()
        for line in container.logs(stdout=True, stderr=False).decode().splitlines():
            try:
                parsed = json.loads(line)
            except ValueError:
                continue
            if isinstance(parsed, dict) and key in parsed:
                return parsed
        if container.status == "exited" or time.monotonic() > deadline:
            logs = container.logs().decode(errors="replace")[-2000:]
            pytest.fail(f"no {key!r} line on stdout ({container.status}); logs:\n{logs}")
        time.sleep(0.1)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_built_image_is_current(client: docker.DockerClient, runtime: str) -> None:
    status = images.image_status(runtime, client)
    assert status is ImageStatus.CURRENT, f"{runtime}: image is {status}; run `make images`"


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_image_is_configured_for_the_agent(client: docker.DockerClient, runtime: str) -> None:
    spec = RUNTIME_IMAGES[runtime]
    config = client.images.get(spec.tag).attrs["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])

    assert config["Labels"][images.LABEL_RUNTIME] == runtime
    assert config["Entrypoint"] == ["python3", "-m", "lambkin_agent"]
    assert config["WorkingDir"] == "/var/task"
    assert config["User"] == "0:0"  # the agent; the docker driver sets LAMBKIN_RUNTIME_USER
    assert "9002/tcp" in config["ExposedPorts"]
    assert isinstance(json.loads(env["LAMBKIN_RUNTIME_CMD"]), list)
    assert isinstance(json.loads(env["LAMBKIN_RUNTIME_ENV"]), dict)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_container_starts_the_agent(run: Any, runtime: str) -> None:
    container = run(RUNTIME_IMAGES[runtime].tag, environment={"LAMBKIN_CONTROL_TOKEN": "t0ken"})

    ready = wait_for_stdout_json(container, "lambkin_agent")

    assert ready["lambkin_agent"] == "ready"
    assert ready["control_port"] == 9002
    url = "http://127.0.0.1:9002/health"
    request = f"u.Request({url!r}, headers={{'Lambkin-Token': 't0ken'}})"
    probe = f"import urllib.request as u; print(u.urlopen({request}).read().decode())"
    exit_code, output = container.exec_run(["python3", "-c", probe])
    assert exit_code == 0, output.decode(errors="replace")
    assert "runtime" in json.loads(output)


def test_python_runtime_client_imports_with_the_runtime_env(
    client: docker.DockerClient, run: Any
) -> None:
    tag = RUNTIME_IMAGES["python3.11"].tag
    image_env = dict(item.split("=", 1) for item in client.images.get(tag).attrs["Config"]["Env"])
    runtime_env = json.loads(image_env["LAMBKIN_RUNTIME_ENV"])
    # exactly the environment the agent gives the runtime (less AWS_LAMBDA_RUNTIME_API)
    command = ["env", "-i", *(f"{k}={v}" for k, v in runtime_env.items())]
    command += ["python3", "-c", "import lambkin_runtime; print('{\"imported\": 1}')"]

    container = run(tag, entrypoint=command)

    assert wait_for_stdout_json(container, "imported") == {"imported": 1}
