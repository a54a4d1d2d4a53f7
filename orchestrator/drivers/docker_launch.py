"""What one instance's container runs, for the docker driver: the image, the runtime's command,
environment and working directory. A zip function runs its runtime's image with the code
mounted at /var/task; an image function runs its own image's ENTRYPOINT and CMD
(container_images.py)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .base import InstanceSpec

TASK_ROOT = "/var/task"
# The runtime client (and, for Python, the AWS SDK) lives where Lambda keeps its runtime:
# LAMBDA_RUNTIME_DIR. /opt is the layers' alone.
RUNTIME_DIR = "/var/runtime"
OPT_ROOT = "/opt"
LAMBDA_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
# The agent serves the Runtime API on loopback only (set, never defaulted: docker.py blanks an
# image's ENV for the agent, so a default the image could change must not be relied on).
RUNTIME_API_ADDR = "127.0.0.1:9001"


@dataclass(frozen=True)
class Launch:
    """What one instance's container runs."""

    image: str
    command: list[str]  # the runtime's
    env: dict[str, str]  # the runtime's
    cwd: str  # the runtime's
    missing: str  # what to tell the user when the image is gone
    image_env: Mapping[str, str] = field(default_factory=dict)  # the image's own ENV
    volumes: tuple[str, ...] = ()  # the image's VOLUMEs


def container_launch(spec: InstanceSpec, image_prefix: str) -> Launch:
    if spec.runtime is None:  # an image function: its own ENTRYPOINT/CMD is the runtime
        image, command, env, cwd = spec.image_launch(LAMBDA_PATH)
        missing = (
            f"the function's image {image.resolved_uri} ({image.uri}) is gone from this "
            "host's Docker engine: load it again, or point the function at another image "
            "(UpdateFunctionCode with ImageUri)"
        )
        return Launch(image.image_id, command, env, cwd, missing, image.env, image.volumes)
    runtime = spec.runtime
    command = spec.runtime_command(TASK_ROOT, RUNTIME_DIR, OPT_ROOT)
    env = spec.runtime_environment(TASK_ROOT, RUNTIME_DIR, LAMBDA_PATH, OPT_ROOT)
    tag = runtime.image_for(image_prefix)
    missing = (
        f"runtime image {tag} is missing: build it with `make images` (or `lambkin images build`)"
    )
    return Launch(tag, command, env, TASK_ROOT, missing)
