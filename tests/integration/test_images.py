"""Runtime images as `make images` built them: current, carrying no agent, able to run the
mounted one.

Nothing here builds an image: a missing or stale one fails with what to run.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from orchestrator import images, runtimes
from orchestrator.agent_binary import agent_binary
from orchestrator.drivers.docker import AGENT_PATH
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
def test_image_carries_no_agent(client: docker.DockerClient, runtime: str) -> None:
    spec = RUNTIME_IMAGES[runtime]
    config = client.images.get(spec.tag).attrs["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])

    assert config["Labels"][images.LABEL_RUNTIME] == runtime
    assert not config.get("Entrypoint")  # the docker driver mounts the agent and sets it
    assert config["WorkingDir"] == "/var/task"
    assert config["User"] == "0:0"  # the agent; the docker driver sets LAMBKIN_RUNTIME_USER
    assert "9002/tcp" in config["ExposedPorts"]
    assert not any(key.startswith("LAMBKIN_") for key in env)  # the driver passes them


def runtime_of(tag: str) -> runtimes.RuntimeSpec:
    return next(spec for spec in runtimes.RUNTIMES.values() if spec.image == tag)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_container_starts_the_mounted_agent(run: Any, runtime: str) -> None:
    """As the docker driver starts an instance: the binary mounted read-only, its entry point."""
    tag = RUNTIME_IMAGES[runtime].tag
    spec = runtime_of(tag)
    runtime_dir = "/var/runtime"
    container = run(
        tag,
        entrypoint=[AGENT_PATH],
        volumes={str(agent_binary()): {"bind": AGENT_PATH, "mode": "ro"}},
        read_only=True,
        environment={
            "LAMBKIN_CONTROL_TOKEN": "t0ken",
            "LAMBKIN_RUNTIME_CMD": json.dumps(spec.resolve_command("/var/task", runtime_dir)),
        },
    )

    ready = wait_for_stdout_json(container, "lambkin_agent")

    assert ready["lambkin_agent"] == "ready"
    assert ready["control_port"] == 9002
    container.reload()
    address = container.attrs["NetworkSettings"]["IPAddress"]
    request = urllib.request.Request(
        f"http://{address}:9002/health", headers={"Lambkin-Token": "t0ken"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert "runtime" in json.loads(response.read())
    top = container.top(ps_args="-o pid,args")["Processes"]
    assert any(AGENT_PATH in " ".join(row) for row in top)


def test_python_runtime_client_imports_with_the_runtime_env(run: Any) -> None:
    tag = RUNTIME_IMAGES["python3.11"].tag
    # the PYTHONPATH the driver gives the runtime (drivers/base.py, runtime_environment)
    command = ["env", "-i", "PATH=/usr/bin:/bin", "PYTHONPATH=/var/runtime"]
    command += ["python3", "-c", "import lambkin_runtime; print('{\"imported\": 1}')"]

    container = run(tag, entrypoint=command)

    assert wait_for_stdout_json(container, "imported") == {"imported": 1}
