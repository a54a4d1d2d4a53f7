"""A hostile container image: what its Dockerfile says (USER root, a HEALTHCHECK, a VOLUME, a
setuid binary, ENV aimed at the agent) gives its function nothing a zip function lacks."""

from __future__ import annotations

import http.client
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.security.hostile import ROLE, instance_of, run
from tests.support.docker_build import build_image
from tests.support.server import Server

pytestmark = pytest.mark.docker

FUNCTION_UID = 993
STOLEN = "/tmp/stolen-by-healthcheck"
KNOWN_TOKEN = "token-the-image-chose"
DOCKERFILE = f"""FROM lambkin/python3.11
COPY probe.py /var/task/probe.py
RUN mkdir -p /data && chmod 1777 /data \\
    && cp /bin/cat /usr/bin/rootcat && chmod 4755 /usr/bin/rootcat
USER 0
VOLUME /data
ENV LAMBKIN_RUNTIME_API_ADDR=0.0.0.0:9001 LAMBKIN_AGENT_LOG_LEVEL=DEBUG \\
    LAMBKIN_CONTROL_TOKEN={KNOWN_TOKEN} GODEBUG=inittrace=1 GOMAXPROCS=64
HEALTHCHECK --interval=1s --start-period=1s \\
    CMD ["/bin/sh", "-c", "id -u > {STOLEN}; cat /proc/1/environ >> {STOLEN}"]
WORKDIR /var/task
ENTRYPOINT ["python3", "-m", "lambkin_runtime"]
CMD ["probe.handler"]
"""


@pytest.fixture(scope="module")
def hostile_image() -> Iterator[str]:
    client = docker.from_env()
    probe = (Path(__file__).parent / "probe.py").read_text()
    tag = build_image(
        client, "lambkin-test/hostile-image", {"Dockerfile": DOCKERFILE, "probe.py": probe}
    )
    yield tag
    client.close()


def deploy_image(server: Server, image: str) -> str:
    name = f"probe-image-{uuid.uuid4().hex[:8]}"
    server.client().create_function(
        FunctionName=name, PackageType="Image", Code={"ImageUri": image}, Role=ROLE, Timeout=30
    )
    return name


def container_of(server: Server, name: str) -> dict[str, object]:
    client = docker.from_env()
    try:
        (container,) = client.containers.list(filters={"label": f"org.lambkin.function={name}"})
        attrs: dict[str, object] = container.attrs
        return attrs
    finally:
        client.close()


def test_the_images_user_and_setuid_binaries_give_nothing(
    server: Server, hostile_image: str
) -> None:
    name = deploy_image(server, hostile_image)
    status = run(server, name, {"probe": "status"})
    assert status["Uid"] == " ".join([str(FUNCTION_UID)] * 4)
    assert status["CapEff"] == "0000000000000000" and status["NoNewPrivs"] == "1"
    found = run(server, name, {"probe": "setuid"})
    seen = {path: euid for path, euid in found["euid_seen"].items() if euid is not None}
    assert "/usr/bin/rootcat" in seen and seen == dict.fromkeys(seen, FUNCTION_UID), found
    agent = run(server, name, {"probe": "proc"})
    for probe in ("environ", "mem", "kill"):
        assert agent[probe]["ok"] is False, (probe, agent[probe])


def test_the_images_healthcheck_never_runs(server: Server, hostile_image: str) -> None:
    name = deploy_image(server, hostile_image)
    run(server, name, {"probe": "status"})
    time.sleep(3)  # three of its intervals
    stolen = run(server, name, {"probe": "read", "path": STOLEN})
    assert stolen["ok"] is False and stolen["errno"] == "ENOENT", stolen
    state = container_of(server, name)["State"]
    assert isinstance(state, dict) and "Health" not in state


def test_a_declared_volume_is_not_writable_and_leaves_nothing_on_the_host(
    server: Server, hostile_image: str
) -> None:
    engine = docker.from_env()
    volumes_before = {v.name for v in engine.volumes.list()}
    name = deploy_image(server, hostile_image)
    wrote = run(server, name, {"probe": "write", "places": {"/data": 1024, "/tmp": 1024}})
    assert wrote["/data"]["ok"] is False and wrote["/data"]["errno"] in ("EROFS", "EACCES"), wrote
    assert wrote["/tmp"]["ok"] is True
    mounts = container_of(server, name)["Mounts"]
    assert isinstance(mounts, list) and not [m for m in mounts if m.get("Type") == "volume"]
    server.client().delete_function(FunctionName=name)
    assert {v.name for v in engine.volumes.list()} <= volumes_before
    engine.close()


def test_the_images_env_does_not_reach_the_agent(server: Server, hostile_image: str) -> None:
    name = deploy_image(server, hostile_image)
    environment = run(server, name, {"probe": "environment"})
    assert environment["GODEBUG"] == "inittrace=1"  # the runtime gets the image's ENV...
    instance = instance_of(server, name)
    host, port = instance["Endpoint"].rsplit(":", 1)
    # ...the agent does not: the token it wants is still the control plane's own,
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request("GET", "/health", headers={"Lambkin-Token": KNOWN_TOKEN})
    answer = conn.getresponse()
    assert answer.status == 401, answer.read()
    conn.close()
    # its Runtime API is still on loopback only,
    with pytest.raises(OSError):
        http.client.HTTPConnection(host, 9001, timeout=2).request("GET", "/")
    # and from the host, its environment holds those names blanked.
    pid = container_of(server, name)["State"]
    assert isinstance(pid, dict)
    environ = Path(f"/proc/{pid['Pid']}/environ").read_bytes().split(b"\0")
    for blanked in (b"GODEBUG=", b"GOMAXPROCS=", b"LAMBKIN_AGENT_LOG_LEVEL="):
        assert blanked in environ
    assert b"LAMBKIN_RUNTIME_API_ADDR=127.0.0.1:9001" in environ
    assert run(server, name, {"probe": "status"})  # and it still serves
