"""Which image a swarm instance runs, and getting it to the nodes.

A zip function's instance runs its runtime's image; an image function's, its own image (found
and pinned on this host's engine, as the docker driver does: docker_images.py). Either way the
nodes pull it from the registry with the agent added (swarm_images.py), published the first
time an instance needs it and cached by image id from then on. The pool asks for it before an
instance's start budget runs (`Driver.prepare`), so a first push of seconds, or a minute for a
large image, is never what times a start out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from ..container_images import ResolvedImage
from ..runtimes import RUNTIMES
from .base import InstanceSpec
from .docker_images import release, resolve
from .docker_launch import Launch, container_launch
from .swarm_images import Publisher, Registry, offered_runtimes, publish

log = logging.getLogger(__name__)


def function_repository(prefix: str) -> str:
    """Where image functions' images go in the registry, tagged by image id and agent digest
    (no runtime is called `functions`)."""
    return f"{prefix}/functions"


class InstanceImages:
    def __init__(
        self,
        local: docker.DockerClient,
        registry: Registry,
        agent: Path,
        prefix: str,
        published: Callable[[str], None],
    ) -> None:
        self._local, self._prefix = local, prefix

        def push(image_id: str, repository: str) -> str:
            return publish(local, registry, image_id, repository, agent)

        self._publisher = Publisher(self._identify, push, published)

    def _identify(self, image: str) -> str | None:
        try:
            return str(self._local.images.get(image).id)
        except docker.errors.ImageNotFound:
            return None

    def offered(self) -> list[str]:
        """The runtimes whose image this host has."""
        present = {
            tag for image in self._local.images.list(name=f"{self._prefix}/*") for tag in image.tags
        }
        return offered_runtimes(present, self._prefix)

    def runtime(self, runtime: str) -> str:
        """The nodes' reference to a runtime's image (published now if it was not)."""
        image = RUNTIMES[runtime].image_for(self._prefix)
        return self._publisher.image_for(
            image, image, f"runtime image {image} is missing: build it with `make images`"
        )

    def for_instance(self, spec: InstanceSpec) -> tuple[str, Launch]:
        """The nodes' reference to what the instance runs, and what runs in it (the docker
        driver's launch: the runtime's command, or the image function's ENTRYPOINT and CMD
        with its ImageConfig). PublishFailed when it cannot be published."""
        launch = container_launch(spec, self._prefix)
        repository = launch.image if spec.runtime is not None else self._function_repository
        return self._publisher.image_for(launch.image, repository, launch.missing), launch

    @property
    def _function_repository(self) -> str:
        return function_repository(self._prefix)

    # -- image functions: found, pulled and pinned on this host, as for the docker driver --------

    def resolve(self, uri: str) -> ResolvedImage:
        return resolve(self._local, uri)

    def release(self, image_id: str) -> None:
        release(self._local, image_id)
