"""The function can write to /tmp only, up to EphemeralStorage, and to a bounded /dev/shm:
the root filesystem is read-only, so nothing lands on the host's disk (the container's upper
layer does not grow)."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest

from tests.security.hostile import deploy, instance_of, run
from tests.support.server import Server

pytestmark = pytest.mark.docker

MB = 1024 * 1024
OUTSIDE_TMP = [
    "/",
    "/var/tmp",
    "/var/task",
    "/opt",
    "/var/runtime",
    "/var/lambkin",
    "/run",
    "/etc",
    "/usr/bin",
]


@pytest.fixture(scope="module")
def engine() -> Iterator[docker.DockerClient]:
    client = docker.from_env(timeout=60)
    yield client
    client.close()


def upper_layer_bytes(engine: docker.DockerClient, instance_id: str) -> int:
    """SizeRw: what the container wrote to its own layer, on the host's disk."""
    label = f"org.lambkin.instance={instance_id}"
    (container,) = engine.api.containers(filters={"label": label}, size=True)
    return int(container.get("SizeRw") or 0)


def test_writes_outside_tmp_fail_and_tmp_is_bounded(
    server: Server, engine: docker.DockerClient
) -> None:
    name = deploy(server, MemorySize=1024, EphemeralStorage={"Size": 512})
    run(server, name, {"probe": "status"})
    instance = instance_of(server, name)["InstanceId"]
    before = upper_layer_bytes(engine, instance)

    places = {d: 20 * MB if d == "/var/tmp" else 1024 for d in OUTSIDE_TMP}
    fill = {"/tmp": 600 * MB, "/dev/shm": 80 * MB}
    found = run(server, name, {"probe": "write", "places": {**places, "/tmp": 1024}, "fill": fill})

    for place in OUTSIDE_TMP:
        assert found[place]["ok"] is False, f"{place}: {found[place]}"
        assert found[place]["errno"] in ("EROFS", "EACCES"), f"{place}: {found[place]}"
    assert found["/tmp"] == {"ok": True, "value": 1024}
    assert found[found["home"]]["ok"] is (found["home"] == "/tmp"), found
    for place in fill:
        assert found[f"fill {place}"]["errno"] == "ENOSPC", found[f"fill {place}"]
    assert upper_layer_bytes(engine, instance) - before < MB, "nothing landed on the host's disk"
