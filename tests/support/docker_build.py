"""Build a test image from files in memory, tagged by a hash of them (so a rerun builds
nothing), with Lambkin's own offline Debian bases as the only things it starts FROM."""

from __future__ import annotations

import hashlib
import io
import tarfile
from collections.abc import Mapping

import docker
import docker.errors


def build_image(
    client: docker.DockerClient, repository: str, files: Mapping[str, str | bytes]
) -> str:
    """`repository:<hash>` built from `files` (a Dockerfile among them); the tag."""
    digest = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        digest.update(name.encode() + b"\0" + (data.encode() if isinstance(data, str) else data))
    tag = f"{repository}:{digest.hexdigest()[:12]}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in sorted(files.items()):
            raw = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(raw), 0o755
            tar.addfile(info, io.BytesIO(raw))
    context.seek(0)
    client.images.build(fileobj=context, custom_context=True, tag=tag, rm=True, forcerm=True)
    return tag
