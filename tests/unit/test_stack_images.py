"""orchestrator/stack_images.py without an engine: what goes into the server image, and which
steps `make server-image` takes."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import docker

from orchestrator import stack_images


def test_dependencies_are_pyprojects() -> None:
    deps = stack_images.dependencies()
    assert any(d.startswith("fastapi") for d in deps) and any(d.startswith("uvicorn") for d in deps)
    assert not any(d.startswith(("pytest", "boto3", "awscli")) for d in deps)  # extras stay out


def test_server_context_holds_the_sources_wheels_and_agent(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "requirements.txt").write_text("fastapi\n")
    (wheels / "fastapi-1-py3-none-any.whl").write_bytes(b"wheel")
    agent = tmp_path / "lambkin-agent"
    agent.write_bytes(b"\x7fELF")
    names = [name for name, _ in stack_images.server_files(wheels, agent)]
    assert {"Dockerfile", "entrypoint.sh", "lambkin-agent", "wheels/requirements.txt"} <= set(names)
    assert "wheels/fastapi-1-py3-none-any.whl" in names
    assert "app/orchestrator/cli.py" in names and "app/orchestrator/__main__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert names == sorted(names)  # a stable order: a stable source hash


def test_a_given_base_skips_making_ours() -> None:
    client = cast(docker.DockerClient, object())  # the steps are not run here
    default = [d for d, _ in stack_images.build_steps(client=client)]
    assert default == [
        "agent binary",
        "server wheels",
        "base image lambkin/base-server:bookworm",
        "lambkin/server",
        "base image lambkin/base-prometheus:bookworm",
        "lambkin/prometheus",
        "removing replaced images",
    ]
    bases = {stack_images.SERVER.tag: "python:3.11-slim"}
    given = [d for d, _ in stack_images.build_steps(bases=bases, client=client)]
    assert "base image lambkin/base-server:bookworm" not in given
    assert "base image lambkin/base-prometheus:bookworm" in given
