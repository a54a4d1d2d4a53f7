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
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from ..agent_binary import file_digest
from ..runtimes import RUNTIMES

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


def offered_runtimes(present_tags: set[str], prefix: str) -> list[str]:
    """Every runtime whose image (`<prefix>/<runtime>:latest`) the host's engine has: any of
    them can be published on its first instance."""
    return sorted(
        r for r, spec in RUNTIMES.items() if f"{spec.image_for(prefix)}:latest" in present_tags
    )


def publish_at_start(listed: list[str], offered: list[str]) -> list[str]:
    """The runtimes to publish before the server serves: those the operator listed
    (LAMBKIN_SWARM_PUBLISH_AT_START), so that not even their first instance waits for a push.
    ValueError, saying what to do, for a name that cannot be published."""
    for runtime in listed:
        if runtime not in RUNTIMES:
            raise ValueError(
                f"LAMBKIN_SWARM_PUBLISH_AT_START names {runtime!r}, which is no runtime: use "
                f"identifiers such as {', '.join(sorted(RUNTIMES)[:3])}"
            )
        if runtime not in offered:
            raise ValueError(
                f"this host has no image of {runtime} (it is listed to publish): build it with "
                f"`make images` (or `lambkin images build {runtime}`), or take it out of "
                "LAMBKIN_SWARM_PUBLISH_AT_START"
            )
    return sorted(set(listed))


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
        raise PublishFailed(
            f"registry {registry.push} answered {exc.code}: check its logs, and that "
            "LAMBKIN_SWARM_PUSH_REGISTRY names its push side"
        ) from None
    except OSError as exc:
        raise PublishFailed(
            f"registry {registry.push} does not answer ({exc}): start it, or point "
            "LAMBKIN_SWARM_PUSH_REGISTRY at it"
        ) from None


def publish(
    client: docker.DockerClient, registry: Registry, image: str, repository: str, agent: Path
) -> str:
    """Publish `image` (an image of the host's engine: a runtime's tag, or an image function's
    id) with the agent, as `repository` in the registry; the reference the nodes pull it by."""
    try:
        base = client.images.get(image)
    except docker.errors.ImageNotFound:
        raise PublishFailed(f"{image} is missing from this host's engine") from None
    base_id = str(base.id)
    tag = published_tag(base_id, file_digest(agent))
    if not in_registry(registry, repository, tag):
        target = f"{registry.push}/{repository}:{tag}"
        log.info("publishing %s as %s", image, target)
        began = time.monotonic()
        try:
            built, _ = client.images.build(
                fileobj=io.BytesIO(build_context(base_id, agent)),
                custom_context=True,
                tag=target,
                rm=True,
                forcerm=True,
            )
            progress = PushProgress(target, began)
            for line in client.images.push(f"{registry.push}/{repository}", tag, stream=True):
                for event in _events(line):
                    if "error" in event:
                        raise PublishFailed(f"pushing {target}: {event['error']}")
                    progress.saw(event)
        except docker.errors.APIError as exc:
            raise PublishFailed(f"publishing {target}: {exc.explanation or exc}") from None
        finally:
            try:  # the registry has it; the host's engine needs no copy under that name
                client.images.remove(target, noprune=False)
            except docker.errors.APIError:
                pass
        log.info(
            "published %s as %s (%s) in %.1f s",
            image,
            target,
            built.short_id if built else "",
            time.monotonic() - began,
        )
    else:
        log.info(
            "published %s as %s/%s:%s (the registry had it)", image, registry.push, repository, tag
        )
    return f"{registry.pull}/{repository}:{tag}"


class PushProgress:
    """A push's layers, told in the log every few seconds: a first publish takes seconds to a
    minute (a Java runtime's ~400 MB), and a cold start waiting on it should not look hung."""

    EVERY_S = 3.0

    def __init__(self, target: str, began: float) -> None:
        self._target, self._began, self._told = target, began, began
        self._layers: dict[str, str] = {}

    def saw(self, event: dict[str, str]) -> None:
        layer = event.get("id")
        if layer and "status" in event and layer != self._target.rsplit(":", 1)[-1]:
            self._layers[layer] = event["status"]
        now = time.monotonic()
        if now - self._told >= self.EVERY_S:
            self._told = now
            done = sum(
                s in ("Pushed", "Layer already exists", "Mounted from")
                for s in self._layers.values()
            )
            log.info(
                "publishing %s: %d of %d layers pushed (%.0f s)",
                self._target,
                done,
                len(self._layers),
                now - self._began,
            )


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
    """Publishes each image once per build (by its id), however many first starts ask at once,
    and tells `published` (the driver has every node pull it ahead).

    `identify` gives an image's id on the host's engine (None: it is not there); `publish`
    pushes (image id, repository) and returns the nodes' reference. Both block: call from a
    thread. Different images publish side by side; starts of one image wait for its one push.
    """

    def __init__(
        self,
        identify: Callable[[str], str | None],
        publish: Callable[[str, str], str],
        published: Callable[[str], None],
    ) -> None:
        self._identify, self._publish, self._published = identify, publish, published
        self._references: dict[str, str] = {}  # image id -> reference on the nodes
        self._locks: dict[str, threading.Lock] = {}  # image id -> its publish's turn
        self._guard = threading.Lock()

    def image_for(self, image: str, repository: str, missing: str) -> str:
        """The nodes' reference to `image` with the agent; PublishFailed (with `missing` when
        the host's engine has no such image)."""
        image_id = self._identify(image)
        if image_id is None:
            raise PublishFailed(missing)
        with self._guard:
            if image_id in self._references:
                return self._references[image_id]
            turn = self._locks.setdefault(image_id, threading.Lock())
        with turn:
            if image_id not in self._references:  # else published while this one waited
                reference = self._publish(image_id, repository)
                with self._guard:
                    self._references[image_id] = reference
                self._published(reference)
            return self._references[image_id]
