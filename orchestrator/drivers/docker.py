"""The docker driver: one container per instance, through the docker SDK.

The only module that imports docker. The SDK is synchronous, so every call runs in a worker
thread; none of them is on the warm-invoke path.
"""

from __future__ import annotations

import asyncio
import logging
import threading
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
    ExitListener,
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
        self._events: Any = None
        self._oom_killed: set[str] = set()
        self._warn_about_stale_images()

    def _warn_about_stale_images(self) -> None:
        """An image built from older agent or runtime sources would behave like the old code."""
        from .. import images

        for runtime, image in images.RUNTIME_IMAGES.items():
            try:
                status = images.image_status(runtime, self._client)
            except Exception:  # a source-less install cannot tell; not worth failing start-up
                continue
            if status is images.ImageStatus.STALE:
                log.warning("image %s is older than its sources: run `make images` to rebuild it", image.tag)

    async def watch(self, listener: ExitListener) -> None:
        """Follow the engine's event stream for our containers' deaths, in a thread."""
        loop = asyncio.get_running_loop()
        self._events = await asyncio.to_thread(
            self._client.events,
            decode=True,
            filters={"type": "container", "event": ["die", "oom"], "label": [f"{LABEL_SERVER}={self._server_id}"]},
        )

        def follow() -> None:
            try:
                for event in self._events:
                    instance_id = event.get("Actor", {}).get("Attributes", {}).get(LABEL_INSTANCE)
                    if not instance_id:
                        continue
                    if event.get("status") == "oom":
                        self._oom_killed.add(instance_id)
                    else:
                        reason = "oom" if instance_id in self._oom_killed else None
                        loop.call_soon_threadsafe(listener, instance_id, reason)
            except Exception:  # the stream ends when the driver closes
                log.debug("docker event stream ended", exc_info=True)

        threading.Thread(target=follow, name="docker-events", daemon=True).start()

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
                # Lambda gives CPU in proportion to memory (one vCPU at 1769 MB); shares only
                # weigh in under contention, so an idle host still runs a small function fast.
                cpu_shares=max(2, 1024 * spec.config.memory_size // 1769),
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
        if handle.instance_id in self._oom_killed:
            return "oom"

        def inspect() -> str | None:
            try:
                state = self._client.api.inspect_container(handle.ref)["State"]
            except docker.errors.NotFound:
                return None
            return "oom" if state.get("OOMKilled") else None

        return await asyncio.to_thread(inspect)

    async def close(self) -> None:
        if self._events is not None:
            self._events.close()
        await asyncio.to_thread(self._client.close)


def _first_network_ip(attrs: dict[str, Any]) -> str:
    for network in attrs["NetworkSettings"].get("Networks", {}).values():
        if network.get("IPAddress"):
            return str(network["IPAddress"])
    return ""
