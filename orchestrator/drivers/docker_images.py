"""The docker driver's side of container-image functions: find (or pull) the image a function
names, read what it runs, and pin it.

Pinned: the image is tagged `lambkin-pinned:<its id>` for as long as a function uses it, so a
user who retags `app:latest` to a new build, or removes the tag, changes nothing a function runs
(AWS pins by digest the same way: ResolvedImageUri). Instances run the image by its id.
"""

from __future__ import annotations

import logging

import docker
import docker.errors

from ..container_images import ImageUnavailable, ResolvedImage, image_env, parse_image_reference

log = logging.getLogger(__name__)

PIN_REPOSITORY = "lambkin-pinned"
_PLATFORM = ("linux", "amd64")  # what this server runs (validation.architectures: x86_64)


def _not_valid(uri: str, why: str) -> ImageUnavailable:
    # AWS's own first sentence, then what Lambkin knows about the cause.
    return ImageUnavailable(f"Source image {uri} is not valid. Provide a valid source image. {why}")


def resolve(client: docker.DockerClient, uri: str) -> ResolvedImage:
    reference = parse_image_reference(uri)
    if reference is None:
        raise _not_valid(uri, "It is not a Docker image reference: [registry/]name[:tag][@digest].")
    try:
        image = client.images.get(uri)
    except docker.errors.ImageNotFound:
        repository, tag = reference.pullable
        log.info("image %s is not on this engine: pulling it", uri)
        try:
            client.images.pull(repository, tag=tag)
            image = client.images.get(uri)
        except (docker.errors.APIError, docker.errors.ImageNotFound) as exc:
            detail = getattr(exc, "explanation", None) or str(exc)
            raise _not_valid(
                uri,
                f"It is not on this host's Docker engine and pulling it failed ({detail}). "
                f"Build or load it here first (`docker build -t {uri} .` or `docker load`).",
            ) from None
    except docker.errors.APIError as exc:
        detail = exc.explanation or exc
        raise _not_valid(uri, f"The Docker engine could not inspect it: {detail}.") from None
    attrs = image.attrs
    platform = (attrs.get("Os"), attrs.get("Architecture"))
    if platform != _PLATFORM:
        raise _not_valid(
            uri,
            f"It is built for {platform[0]}/{platform[1]}, and this server runs "
            f"{_PLATFORM[0]}/{_PLATFORM[1]}: build it with --platform linux/amd64.",
        )
    image_id = str(attrs["Id"])
    digests = [str(d) for d in attrs.get("RepoDigests") or []]
    resolved = next((d for d in digests if d.rsplit("@", 1)[0] == reference.name), None)
    # An image only ever built here has no registry digest: its content id pins it as well.
    resolved = resolved or (digests[0] if digests else f"{reference.name}@{image_id}")
    config = attrs.get("Config") or {}
    image.tag(PIN_REPOSITORY, tag=image_id.removeprefix("sha256:"))
    return ResolvedImage(
        uri=uri,
        resolved_uri=resolved,
        image_id=image_id,
        size=int(attrs.get("Size") or 0),
        entry_point=tuple(config.get("Entrypoint") or ()),
        command=tuple(config.get("Cmd") or ()),
        working_dir=str(config.get("WorkingDir") or ""),
        env=image_env(config.get("Env")),
        volumes=tuple(sorted(config.get("Volumes") or {})),
    )


def release(client: docker.DockerClient, image_id: str) -> None:
    """Drop our pin; the image itself goes only if nothing else (a tag, a container) holds it."""
    pin = f"{PIN_REPOSITORY}:{image_id.removeprefix('sha256:')}"
    try:
        client.images.remove(pin)
    except docker.errors.ImageNotFound:
        pass
    except docker.errors.APIError as exc:  # e.g. a container of it is still being removed
        log.info("image pin %s kept for now: %s", pin, exc.explanation or exc)
