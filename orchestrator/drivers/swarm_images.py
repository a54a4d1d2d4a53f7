"""How runtime images and the agent reach a swarm's nodes: through a registry.

On one host the docker driver bind-mounts the agent binary into every container; a swarm's
nodes are other machines, so the agent must travel inside the image. For each runtime, the
swarm driver publishes one image: the runtime's image (`lambkin/python3.11`, as `make images`
built it; never retagged or rebuilt here) with the agent binary added at AGENT_PATH, one layer
of ~6 MB. Its tag names both (`<runtime image id>-<agent digest>`), so a rebuilt runtime image
or a changed agent publishes a new tag and no node can run a stale pair; publishing a tag the
registry has is a no-op.

Two registry addresses: where the control plane pushes (the push side, which functions cannot
reach) and where the nodes pull (which they can, read-only) -- the same storage.
"""

from __future__ import annotations

import io
import json
import logging
import tarfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from ..agent_binary import file_digest

log = logging.getLogger(__name__)

AGENT_PATH = "/var/lambkin/agent/lambkin-agent"
_MANIFESTS = (
    "application/vnd.docker.distribution.manifest.v2+json,"
    "application/vnd.oci.image.manifest.v1+json"
)


class PublishFailed(Exception):
    """The image could not be built or pushed; the message says why."""


@dataclass(frozen=True)
class Registry:
    push: str  # host:port the control plane pushes to
    pull: str  # host:port the nodes pull from


def published_tag(runtime_image_id: str, agent_digest: str) -> str:
    return f"{runtime_image_id.removeprefix('sha256:')[:16]}-{agent_digest[:16]}"


def build_context(base_image_id: str, agent: Path) -> bytes:
    """A build context: the Dockerfile (FROM the runtime image, pinned by id) and the agent."""
    dockerfile = (
        f"FROM {base_image_id}\n"
        f"COPY lambkin-agent {AGENT_PATH}\n"
        'LABEL org.lambkin.agent="included"\n'
    ).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        info = tar.gettarinfo(str(agent), "lambkin-agent")
        info.uid = info.gid = 0
        info.mode = 0o755
        with agent.open("rb") as f:
            tar.addfile(info, f)
    return buffer.getvalue()


def in_registry(registry: Registry, repository: str, tag: str) -> bool:
    """Whether the push side already holds repository:tag."""
    request = urllib.request.Request(
        f"http://{registry.push}/v2/{repository}/manifests/{tag}",
        method="HEAD",
        headers={"Accept": _MANIFESTS},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return bool(answer.status == 200)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return False
        raise PublishFailed(f"registry {registry.push} answered {exc.code}") from None
    except OSError as exc:
        raise PublishFailed(f"registry {registry.push} does not answer: {exc}") from None


def publish(client: docker.DockerClient, registry: Registry, image: str, agent: Path) -> str:
    """Publish `image` (a runtime image of the host's engine) with the agent; the reference the
    nodes pull it by."""
    try:
        base = client.images.get(image)
    except docker.errors.ImageNotFound:
        raise PublishFailed(f"{image} is missing: build it with `make images`") from None
    base_id = str(base.id)
    tag = published_tag(base_id, file_digest(agent))
    repository = image.split(":")[0]
    if not in_registry(registry, repository, tag):
        target = f"{registry.push}/{repository}:{tag}"
        log.info("publishing %s as %s", image, target)
        try:
            built, _ = client.images.build(
                fileobj=io.BytesIO(build_context(base_id, agent)),
                custom_context=True,
                tag=target,
                rm=True,
                forcerm=True,
            )
            for line in client.images.push(f"{registry.push}/{repository}", tag, stream=True):
                for event in _events(line):
                    if "error" in event:
                        raise PublishFailed(f"pushing {target}: {event['error']}")
        except docker.errors.APIError as exc:
            raise PublishFailed(f"publishing {target}: {exc.explanation or exc}") from None
        finally:
            try:  # the registry has it; the host's engine needs no copy under that name
                client.images.remove(target, noprune=False)
            except docker.errors.APIError:
                pass
        log.info("published %s (%s)", target, built.short_id if built else "")
    return f"{registry.pull}/{repository}:{tag}"


def _events(line: bytes | str) -> list[dict[str, str]]:
    text = line.decode() if isinstance(line, bytes) else line
    events = []
    for part in text.splitlines():
        try:
            events.append(json.loads(part))
        except ValueError:
            continue
    return events


class Publisher:
    """Publishes each runtime image once per build (by its id), and says so to `published`
    (the driver has every node pull it ahead)."""

    def __init__(
        self,
        client: docker.DockerClient,
        registry: Registry,
        agent: Path,
        published: Callable[[str], None],
    ) -> None:
        self._client, self._registry, self._agent = client, registry, agent
        self._published = published
        self._references: dict[str, str] = {}  # runtime image id -> reference on the nodes
        self._lock = threading.Lock()

    def image_for(self, runtime_image: str) -> str:
        with self._lock:
            try:
                image_id = str(self._client.images.get(runtime_image).id)
            except docker.errors.ImageNotFound:
                raise PublishFailed(
                    f"runtime image {runtime_image} is missing: build it with `make images`"
                ) from None
            if image_id not in self._references:
                reference = publish(self._client, self._registry, runtime_image, self._agent)
                self._references[image_id] = reference
                self._published(reference)
            return self._references[image_id]
