"""The swarm driver: each instance a Docker Swarm service of one task, placed by Swarm.

The control plane runs on a host outside the swarm and talks to the manager's Engine API
(LAMBKIN_SWARM_ENGINE, a unix socket in the test cluster: no TCP API anywhere). The answers
to the three questions a cluster asks (docs/architecture.md, "The swarm driver"):

- Code: the nodes do not share this host's disk, so an instance starts vacant (no function)
  and the driver pushes the unpacked code and layers to its agent's control port as tar streams
  (PUT /files/task, /files/opt: tmpfs mounts the function reads but cannot write), then hands it
  its function (POST /specialise). The agent reaches out to nothing; the images come from the
  registry (swarm_images.py), the agent inside them.
- Reach: each instance has an overlay network of its own, so no instance shares a network
  with another; a gateway container on its node (swarm_gateways.py) is attached to it and
  relays CONNECTs from the control plane, with a token, to agents' control ports only
  (the agent binary's gateway mode, runtime-images/agent/gateway.go; tunnel.py); the agent
  client speaks its protocol through the tunnel as on a direct socket.
- Logs: the agent writes its events to a tmpfs file and serves it; a follower per instance
  streams it into the instance's log file here (swarm_logs.py), which the same reader as the
  docker driver's ingests.

Deaths: Swarm has no event stream for tasks on other nodes; swarm_watch.py polls.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import io
import logging
import tarfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import docker
import docker.errors

from ..agent_binary import agent_binary
from ..agent_client import AgentClient, AgentUnreachable
from ..container_images import ResolvedImage
from ..settings import Settings
from .base import (
    AGENT_CONTROL_PORT,
    LABEL_FUNCTION,
    LABEL_INSTANCE,
    LABEL_MANAGED,
    LABEL_SERVER,
    Driver,
    DriverMisconfigured,
    DriverUnavailable,
    ExitListener,
    InstanceHandle,
    InstanceSpec,
    OwnedInstance,
    StartFailed,
    VacancyUnusable,
    VacantSpec,
    specialisation,
)
from .docker_launch import Launch
from .swarm_api_relay import ApiRelay
from .swarm_gateways import API_ALIAS, GATEWAY_API_PORT, Gateways
from .swarm_images import PublishFailed, Registry, publish_at_start
from .swarm_instance_images import InstanceImages
from .swarm_logs import LogFollower
from .swarm_removal import Removal
from .swarm_spec import (
    ENDED_STATES,
    Placement,
    ServiceRef,
    agent_environment,
    newest_task,
    service_spec,
    task_view,
)
from .swarm_volumes import NodeVolumes
from .swarm_watch import SwarmWatch

log = logging.getLogger(__name__)

TASK_POLL_S = 0.1
# Docker's API calls block, and a stop makes several (its service; its task's end, seconds; its
# network). Deleting twenty functions at once queued their stops behind the loop's default
# executor (cores + 4 threads, shared with the whole server) past their timeout, and a queued
# call that was cancelled never ran: their services were left. Hence threads of the driver's
# own, as many as its clients' connections, and removals that finish whoever stops waiting.
API_THREADS = 32
T = TypeVar("T")


class SwarmDriver(Driver):
    name = "swarm"

    def __init__(self, settings: Settings, server_id: str) -> None:
        self._settings = settings
        self._server_id = server_id
        if not settings.swarm_engine:
            raise DriverUnavailable(
                "the swarm driver needs LAMBKIN_SWARM_ENGINE (the manager's Engine API, e.g. "
                "unix:///run/lkswarm/docker.sock from scripts/swarm-cluster.sh env)"
            )
        try:
            self._client = docker.DockerClient(
                base_url=settings.swarm_engine, timeout=60, max_pool_size=API_THREADS
            )
            info = self._client.info()
            # The SDK's low-level API (services, tasks, nodes) has no type hints.
            self._api: Any = self._client.api
            self._containers: Any = self._client.containers
            self._local = docker.from_env(timeout=300)  # where the runtime images are built
            self._local.ping()
        except Exception as exc:
            raise DriverUnavailable(
                f"cannot reach the swarm's manager at {settings.swarm_engine} or this host's "
                f"engine ({exc}): bring the cluster up (scripts/swarm-cluster.sh up)"
            ) from None
        swarm = info.get("Swarm") or {}
        if not swarm.get("ControlAvailable"):
            raise DriverMisconfigured(
                f"{settings.swarm_engine} is not a swarm manager (Swarm: "
                f"{swarm.get('LocalNodeState')}): point LAMBKIN_SWARM_ENGINE at a manager's API"
            )
        if not (
            settings.swarm_push_registry
            and settings.swarm_pull_registry
            and settings.swarm_node_engine
        ):
            raise DriverMisconfigured(
                "the swarm driver needs LAMBKIN_SWARM_PUSH_REGISTRY (where this host pushes), "
                "LAMBKIN_SWARM_PULL_REGISTRY (where the nodes pull) and LAMBKIN_SWARM_NODE_ENGINE "
                "(each node's Engine API, {hostname} in it): scripts/swarm-cluster.sh env"
            )
        self.log_dir = settings.instances_dir / "logs" / "swarm"
        self._executor = ThreadPoolExecutor(API_THREADS, thread_name_prefix="swarm-api")
        registry = Registry(settings.swarm_push_registry, settings.swarm_pull_registry)
        self._images = InstanceImages(
            self._local, registry, agent_binary(log.info), settings.image_prefix, self._prefetch
        )
        self._followers: dict[str, LogFollower] = {}
        self._refs: dict[str, ServiceRef] = {}  # instance id -> ref, for the watcher
        self._vacant_images: dict[str, str] = {}  # vacancy's instance id -> its image reference
        self._stopping: set[str] = set()
        self._watcher: asyncio.Task[None] | None = None
        self._api_relay: ApiRelay | None = None  # when functions may call the API
        self._gateways = Gateways(
            settings.swarm_node_engine or "", server_id, settings.swarm_address_pool
        )
        self._volumes = NodeVolumes(settings.swarm_node_engine or "")
        self._watch = SwarmWatch(self._api, self._gateways, server_id, self._volumes)
        self._removal = Removal(self._api, self._watch, self._gateways, self._volumes)
        if settings.swarm_runtimes is not None:
            log.warning(
                "LAMBKIN_SWARM_RUNTIMES is ignored: every runtime whose image this host has is "
                "offered, and published on its first instance; to publish some at start-up "
                "instead, list them in LAMBKIN_SWARM_PUBLISH_AT_START"
            )
        # The operator's list is published before the server serves; any other runtime on its
        # first instance (prepare).
        try:
            for runtime in publish_at_start(
                settings.swarm_publish_at_start, self.available_runtimes()
            ):
                self._images.runtime(runtime)
        except (ValueError, PublishFailed) as exc:
            raise DriverMisconfigured(f"the swarm driver cannot start: {exc}") from None

    async def _call(self, blocking: Callable[..., T], *args: Any) -> T:
        """A blocking call (Docker's API, files) on the driver's own threads."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(blocking, *args))

    async def _finish(self, blocking: Callable[..., None], *args: Any) -> None:
        """A call that must run to its end even if the caller stops waiting (a removal)."""
        await asyncio.shield(self._call(blocking, *args))

    # -- images ----------------------------------------------------------------------------------

    def _prefetch(self, reference: str) -> None:
        """Have every ready node pull a newly published image now, in the background: the first
        instance on each node then starts without a pull (seconds: the image is ~250 MB)."""
        nodes = self._api.nodes()
        for node in nodes:
            if (node.get("Status") or {}).get("State") == "ready":
                hostname = str(node["Description"]["Hostname"])
                threading.Thread(
                    target=self._gateways.pull, args=(hostname, reference), daemon=True
                ).start()

    def available_runtimes(self) -> list[str]:
        """Every runtime whose image this host has: each is published on its first instance."""
        return self._images.offered()

    async def resolve_image(self, uri: str) -> ResolvedImage:
        return await self._call(self._images.resolve, uri)

    async def release_image(self, image_id: str) -> None:
        await self._call(self._images.release, image_id)

    async def prepare(self, spec: InstanceSpec) -> None:
        """Publish what the instance runs if no instance ran it yet (seconds: outside its start
        budget); later starts find it published."""
        await self._call(self._launch_of, spec)

    def _launch_of(self, spec: InstanceSpec) -> tuple[str, Launch]:
        try:
            return self._images.for_instance(spec)
        except PublishFailed as exc:
            raise StartFailed(str(exc)) from None

    # -- starting --------------------------------------------------------------------------------

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        if spec.debug is not None:
            raise StartFailed(
                "the swarm driver does not attach debuggers (yet): debug on --driver docker"
            )
        image, launch = await self._call(self._launch_of, spec)  # (prepared: no push)
        ref = ServiceRef("", "")
        self._refs[spec.instance_id] = ref
        placement = Placement(
            name=f"lambkin-{spec.config.name[:30]}-{spec.instance_id}",
            image=image,
            labels=spec.labels,
            memory_mb=spec.config.memory_size,
            ephemeral_storage_mb=spec.config.ephemeral_storage,
            network_id="",
            own_files=spec.runtime is None,
            image_volumes=launch.volumes,
        )
        environment = agent_environment(
            spec.instance_id,
            self._server_id,
            spec.control_token,
            image_env=launch.image_env,
            file_roots=spec.runtime is not None,
        )
        try:
            handle = await self._call(
                self._place, spec.instance_id, spec.control_token, placement, environment, ref
            )
            await self._hand_over(handle, spec, launch)
        except BaseException:
            await self.stop(InstanceHandle(spec.instance_id, "", 0, ref=ref))
            raise
        return handle

    def _place(
        self,
        instance_id: str,
        token: str,
        placement: Placement,
        environment: dict[str, str],
        ref: ServiceRef,
    ) -> InstanceHandle:
        """Network, gateway attached, service; returns once the task runs and has an address."""
        try:
            network = self._client.networks.create(
                f"lambkin-{instance_id}", driver="overlay", attachable=True, labels=placement.labels
            )
            ref.network_id = str(network.id)
            placement = dataclasses.replace(
                placement, network_id=ref.network_id, avoid_nodes=tuple(self._watch.health.lost())
            )
            body = service_spec(placement, environment)
            created = self._api.create_service(
                body["TaskTemplate"],
                name=body["Name"],
                labels=body["Labels"],
                mode=body["Mode"],
                endpoint_spec=body["EndpointSpec"],
            )
            ref.service_id = str(created["ID"])
        except docker.errors.APIError as exc:
            raise StartFailed(
                f"swarm could not start the instance: {exc.explanation or exc}"
            ) from None
        deadline = time.monotonic() + self._settings.instance_start_timeout_s
        while True:
            # Stopped meanwhile (the start's caller gave up), or never placed: no thread is left
            # polling a service that is gone.
            if instance_id not in self._refs or time.monotonic() > deadline:
                raise StartFailed(
                    f"swarm did not run the instance's task within "
                    f"{self._settings.instance_start_timeout_s:.0f} s, or it was stopped"
                )
            task = newest_task(self._api.tasks(filters={"service": ref.service_id}))
            if task is not None:
                view = task_view(task, ref.network_id)
                if view.state in ENDED_STATES:
                    raise StartFailed(f"swarm task {view.state}: {view.error}")
                if view.state == "running" and view.address:
                    ref.node_id, ref.task_id = view.node_id, str(task["ID"])
                    hostname, address = self._watch.node(view.node_id)
                    try:
                        gateway = self._gateways.attach(
                            hostname, address, placement.image, ref.network_id
                        )
                        if self._api_relay is not None:  # a new gateway gets offers at once
                            self._api_relay.wake()
                    except docker.errors.APIError as exc:
                        raise StartFailed(
                            f"cannot reach the instance on {hostname}: {exc.explanation or exc}"
                        ) from None
                    return InstanceHandle(
                        instance_id,
                        view.address,
                        AGENT_CONTROL_PORT,
                        ref,
                        token,
                        dial=gateway.dial,
                    )
            time.sleep(TASK_POLL_S)

    async def _hand_over(self, handle: InstanceHandle, spec: InstanceSpec, launch: Launch) -> None:
        """The code, the layers (an image function has both in its image), the log follower,
        then the function: init begins."""
        agent = AgentClient(handle.host, handle.port, handle.token, dial=handle.dial)
        try:
            await agent.wait_ready(self._settings.instance_start_timeout_s)
            await agent.specialise(await self._deliver(agent, handle, spec, launch))
        except AgentUnreachable as exc:
            raise StartFailed(f"the instance's agent did not take its function: {exc}") from None
        finally:
            await agent.close()

    async def _deliver(
        self, agent: AgentClient, handle: InstanceHandle, spec: InstanceSpec, launch: Launch
    ) -> dict[str, str]:
        """Put the function's files in a waiting agent and follow its log; what to POST to its
        /specialise then."""
        if spec.code_path is not None:
            await agent.put_files("task", await self._call(tar_of, spec.code_path))
        if spec.layers_path is not None:
            await agent.put_files("opt", await self._call(tar_of, spec.layers_path))
        if self.log_files is not None:
            # The node is known now (Swarm placed the task): it labels the stream.
            path = self.log_files.create(spec.log_target(node=self.node_of(handle)))
            follower = LogFollower(handle.host, handle.port, handle.token, handle.dial, path)
            self._followers[spec.instance_id] = follower
            follower.start()
        return specialisation(launch.command, launch.env, launch.cwd, spec.init_timeout_s)

    # -- vacant instances ------------------------------------------------------------------------

    # Every swarm instance starts as one (its agent waits for its files and function), so a
    # vacancy is a start stopped before _hand_over: a cold start that takes one skips Swarm's
    # scheduling, the node's dispatch and the gateway's attachment (vacancies.py). Its service
    # keeps the name and labels it started with (no function in them): Swarm redeploys a
    # service whose spec is updated, labels alone included (seen: the task was replaced, and
    # the instance killed), so `adopted` changes nothing; the control plane knows its function.
    supports_vacancies = True

    async def start_vacant(self, spec: VacantSpec) -> InstanceHandle:
        image = await self._call(self._vacancy_image, spec.shape.runtime)
        ref = ServiceRef("", "")
        self._refs[spec.instance_id] = ref
        self._vacant_images[spec.instance_id] = image
        placement = Placement(
            name=f"lambkin-vacant-{spec.instance_id}",  # (no dots in a service's name)
            image=image,
            labels=spec.labels,
            memory_mb=spec.shape.memory_mb,
            ephemeral_storage_mb=spec.shape.ephemeral_storage_mb,
            network_id="",
        )
        environment = agent_environment(spec.instance_id, self._server_id, spec.control_token)
        try:
            return await self._call(
                self._place, spec.instance_id, spec.control_token, placement, environment, ref
            )
        except BaseException:
            await self.stop(InstanceHandle(spec.instance_id, "", 0, ref=ref))
            raise

    def _vacancy_image(self, runtime: str) -> str:
        try:
            return self._images.runtime(runtime)
        except (KeyError, PublishFailed) as exc:
            raise StartFailed(f"no image for a vacancy of {runtime}: {exc}") from None

    async def specialise(self, handle: InstanceHandle, spec: InstanceSpec) -> dict[str, str]:
        assert spec.runtime is not None, "vacancies are of runtimes, not image functions"
        assert spec.instance_id == handle.instance_id, "a vacancy keeps its instance id"
        started_from = self._vacant_images.pop(handle.instance_id, None)
        image, launch = await self._call(self._launch_of, spec)
        if image != started_from:  # the tag names the runtime image's id and the agent's digest
            raise VacancyUnusable(f"{image} was published since the vacancy started")
        agent = AgentClient(handle.host, handle.port, handle.token, dial=handle.dial)
        try:
            return await self._deliver(agent, handle, spec, launch)
        except AgentUnreachable as exc:
            raise VacancyUnusable(f"the vacancy's agent did not take the files: {exc}") from None
        finally:
            await agent.close()

    # -- stopping --------------------------------------------------------------------------------

    async def stop(self, handle: InstanceHandle) -> None:
        instance_id = handle.instance_id
        if instance_id in self._stopping:
            return
        self._stopping.add(instance_id)
        try:
            ref = handle.ref if isinstance(handle.ref, ServiceRef) else self._refs.get(instance_id)
            # An instance whose node does not answer is gone with it: nothing to drain or wait
            # for (and the caller, an invocation that failed, should not wait either).
            reachable = ref is not None and await self._call(self._removal.reachable, ref)
            follower = self._followers.pop(instance_id, None)
            if follower is not None:
                if reachable:
                    await follower.drain(timeout_s=2.0)
                else:
                    await follower.cancel()
                follower.close()
            if ref is not None:
                await self._finish(self._removal.remove, ref, reachable, instance_id)
            if self.log_files is not None:
                await self._finish(self.log_files.finish, instance_id)
        finally:
            self._refs.pop(instance_id, None)
            self._vacant_images.pop(instance_id, None)
            self._stopping.discard(instance_id)

    # -- what we own -----------------------------------------------------------------------------

    def _owned_services(self) -> list[dict[str, Any]]:
        services: list[dict[str, Any]] = self._api.services(
            filters={"label": [f"{LABEL_MANAGED}=true", f"{LABEL_SERVER}={self._server_id}"]}
        )
        return services

    async def list_owned(self) -> list[OwnedInstance]:
        services = await self._call(self._owned_services)
        tasks: dict[str, list[dict[str, Any]]] = {}
        for task in await self._call(self._api.tasks) if services else []:
            tasks.setdefault(str(task.get("ServiceID")), []).append(task)
        owned = []
        for service in services:
            labels = service["Spec"].get("Labels") or {}
            network = (service["Spec"]["TaskTemplate"].get("Networks") or [{}])[0]
            ref = ServiceRef(service["ID"], str(network.get("Target") or ""))
            task = newest_task(tasks.get(ref.service_id, []))
            if task is not None:  # (so that a stop waits for it, then frees its network)
                ref.node_id, ref.task_id = str(task.get("NodeID") or ""), str(task["ID"])
            owned.append(
                OwnedInstance(labels.get(LABEL_INSTANCE, ""), labels.get(LABEL_FUNCTION, ""), ref)
            )
        return owned

    async def reap_owned(self) -> int:
        """Every service and network of ours on the cluster (whatever node they are on), and
        the gateways no instance of this process uses (first: a network is not removed while
        a previous run's gateway is still attached to it)."""
        nodes = await self._call(self._api.nodes)
        hostnames = [str(n["Description"]["Hostname"]) for n in nodes]
        await self._call(self._gateways.remove_everywhere, hostnames)
        owned = await self.list_owned()
        await asyncio.gather(
            *(self.stop(InstanceHandle(o.instance_id, "", 0, ref=o.ref)) for o in owned)
        )

        def networks() -> None:
            for network in self._api.networks(
                filters={"label": [f"{LABEL_SERVER}={self._server_id}"]}
            ):
                self._removal.remove_network(network["Id"])

        await self._call(networks)
        # (node by node at once: each may wait a moment for its last containers to go)
        await asyncio.gather(
            *(self._call(self._volumes.of_server, h, self._server_id) for h in hostnames)
        )
        if self.log_files is not None:
            await self._call(self.log_files.recover)
        return len(owned)

    # -- deaths ----------------------------------------------------------------------------------

    async def watch(self, listener: ExitListener) -> None:
        self._watcher = asyncio.get_running_loop().create_task(
            self._watch.run(self._refs, self._stopping, listener)
        )

    async def exit_reason(self, handle: InstanceHandle) -> str | None:
        return None  # a task's status does not say OOM; the agent's report does

    def node_of(self, handle: InstanceHandle) -> str:
        """The hostname of the node the instance runs on (known since it started)."""
        ref = handle.ref
        if not isinstance(ref, ServiceRef):
            return ""
        return self._watch.nodes.get(ref.node_id, ("", ""))[0]

    # -- the platform's API ----------------------------------------------------------------------

    def api_host_for_instances(self) -> str:
        """Where the API listens for the instances: this host's loopback, which the gateways'
        relay (swarm_api_relay.py) connects to; the instances call their gateway."""
        return "127.0.0.1"

    async def allow_api_port(self, port: int) -> None:
        self._gateways.enable_api()
        self._api_relay = ApiRelay(self._gateways.in_use, ("127.0.0.1", port))
        self._api_relay.start()

    def api_endpoint_for_instances(self) -> str | None:
        return f"http://{API_ALIAS}:{GATEWAY_API_PORT}"

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        if self._api_relay is not None:
            await self._api_relay.close()
        for follower in self._followers.values():
            await follower.cancel()
            follower.close()
        self._followers.clear()
        await self._call(self._gateways.close)
        await self._call(self._client.close)
        await self._call(self._local.close)
        self._executor.shutdown(wait=False)
        self.close_logs()


def tar_of(folder: Path) -> bytes:
    """The folder as a tar stream (owners dropped: the agent's user owns what it unpacks)."""

    def owned_by_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.iterdir()):  # links are stored as links, never followed
            tar.add(str(path), arcname=path.name, filter=owned_by_root)
    return buffer.getvalue()
