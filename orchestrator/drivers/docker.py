"""The docker driver: one container per instance, through the docker SDK.

The only module that imports docker. The SDK is synchronous, so every call runs in a worker
thread; none of them is on the warm-invoke path.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from ..runtimes import RUNTIMES
from ..settings import Settings
from .base import (
    AGENT_CONTROL_PORT,
    LABEL_FUNCTION,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_SERVER,
    Driver,
    DriverUnavailable,
    InstanceHandle,
    InstanceSpec,
    OwnedInstance,
    StartFailed,
)

log = logging.getLogger(__name__)

TASK_ROOT = "/var/task"
RUNTIME_ROOT = "/opt/lambkin"
LAMBDA_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"


class DockerDriver(Driver):
    name = "docker"

    def __init__(self, settings: Settings, server_id: str) -> None:
        self._settings = settings
        self._server_id = server_id
        try:
            self._client = docker.from_env(timeout=60)
            self._client.ping()
        except Exception as exc:
            raise DriverUnavailable(
                f"cannot reach a Docker engine ({exc}); start one (scripts/ensure-docker.sh) "
                "or run with --driver process"
            ) from None

    def available_runtimes(self) -> list[str]:
        present = {tag for image in self._client.images.list(name="lambkin/*") for tag in image.tags}
        return sorted(r for r, spec in RUNTIMES.items() if f"{spec.image}:latest" in present)

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        return await asyncio.to_thread(self._start, spec)

    def _start(self, spec: InstanceSpec) -> InstanceHandle:
        runtime_dir = f"{RUNTIME_ROOT}/{spec.runtime.client_dir}" if spec.runtime.client_dir else RUNTIME_ROOT
        command = spec.runtime.resolve_command(TASK_ROOT, runtime_dir)
        runtime_env = spec.runtime_environment(TASK_ROOT, runtime_dir, LAMBDA_PATH)
        environment = spec.agent_environment(
            command,
            runtime_env,
            LAMBKIN_CONTROL_ADDR=f"0.0.0.0:{AGENT_CONTROL_PORT}",
            LAMBKIN_MEMORY_SOURCE="cgroup",
        )
        memory = f"{spec.config.memory_size}m"
        try:
            container: Container = self._client.containers.run(
                spec.runtime.image,
                detach=True,
                name=f"lambkin-{spec.config.name[:40]}-{spec.instance_id}",
                labels=spec.labels,
                environment=environment,
                volumes={str(spec.code_path): {"bind": TASK_ROOT, "mode": "ro"}},
                tmpfs={"/tmp": f"size={spec.config.ephemeral_storage}m,mode=1777"},
                mem_limit=memory,
                memswap_limit=memory,  # no swap: a function over its memory is OOM-killed, as on Lambda
                pids_limit=1024,
                init=True,  # reaps the zombies a runtime's children leave behind
                network=self._settings.docker_network,
            )
        except docker.errors.ImageNotFound:
            raise StartFailed(
                f"runtime image {spec.runtime.image} is missing: build it with `make images` "
                "(or `lambkin images build`)"
            ) from None
        except docker.errors.APIError as exc:
            raise StartFailed(f"docker could not start the instance: {exc.explanation or exc}") from None
        container.reload()
        address = container.attrs["NetworkSettings"]["IPAddress"] or _first_network_ip(container.attrs)
        if not address:
            self._remove(container.id)
            raise StartFailed(f"container {container.short_id} has no IP address on network {self._settings.docker_network}")
        return InstanceHandle(spec.instance_id, address, AGENT_CONTROL_PORT, ref=container.id)

    def _remove(self, container_id: str) -> None:
        try:
            self._client.api.remove_container(container_id, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise

    async def stop(self, handle: InstanceHandle) -> None:
        await asyncio.to_thread(self._remove, handle.ref)

    def _owned_containers(self) -> list[dict[str, Any]]:
        return self._client.api.containers(
            all=True, filters={"label": [f"{LABEL_MANAGED}=true", f"{LABEL_SERVER}={self._server_id}"]}
        )

    async def list_owned(self) -> list[OwnedInstance]:
        containers = await asyncio.to_thread(self._owned_containers)
        return [
            OwnedInstance(c["Labels"].get(LABEL_INSTANCE, ""), c["Labels"].get(LABEL_FUNCTION, ""), ref=c["Id"])
            for c in containers
        ]

    async def reap_owned(self) -> int:
        owned = await self.list_owned()
        await asyncio.gather(*(asyncio.to_thread(self._remove, o.ref) for o in owned))
        return len(owned)

    async def exit_reason(self, handle: InstanceHandle) -> str | None:
        def inspect() -> str | None:
            try:
                state = self._client.api.inspect_container(handle.ref)["State"]
            except docker.errors.NotFound:
                return None
            return "oom" if state.get("OOMKilled") else None

        return await asyncio.to_thread(inspect)

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)


def _first_network_ip(attrs: dict[str, Any]) -> str:
    for network in attrs["NetworkSettings"].get("Networks", {}).values():
        if network.get("IPAddress"):
            return str(network["IPAddress"])
    return ""
