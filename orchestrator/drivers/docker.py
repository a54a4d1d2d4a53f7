"""The docker driver: one container per instance, through the docker SDK.

The only module that imports docker. The SDK is synchronous, so every call runs in a worker
thread; none of them is on the warm-invoke path.

Logs: the agent appends its log events to a file the control plane made for the instance
(log_files.py), bind-mounted at LOG_PATH; the container's own log (json-file, small) holds only
the agent's start-up diagnostics. The file outlives the container, so a stop removes the
container (killing it) first and only then reads the file to its end; files a crashed server
left behind are stored once their containers are removed. The agent runs with the control
plane's group, which the file's mode (0660) requires; the function's user has neither.

The agent is not in the image: the binary (`agent_binary.py`, built from runtime-images/agent/)
is bind-mounted read-only at AGENT_PATH and is the container's entrypoint, PID 1, which also
reaps the zombies a runtime's children leave behind. The runtime command and its environment
come from the runtime table (`runtimes.py`), passed as LAMBKIN_RUNTIME_CMD / _ENV; an image
needs only the language and our runtime client.

Isolation: instances sit on a bridge network with inter-container communication off (created
when missing), so one instance cannot reach another; the host reaches each agent's control port,
instances reach no port of the host but those meant for them (host_firewall.py), and outbound
traffic is allowed. The agent runs as root inside the container, with every
capability dropped but SETUID and SETGID (to start the runtime as the function's user with no
supplementary groups) and KILL (to signal that other user's processes), no_new_privs, Docker's
default seccomp profile, a read-only root filesystem, /tmp a tmpfs of EphemeralStorage and
/dev/shm bounded; the runtime runs as uid 993, gid 990 (LAMBKIN_RUNTIME_USER).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container
from docker.types import LogConfig

from ..agent_binary import agent_binary
from ..container_images import ResolvedImage
from ..debugging import Debugger
from ..debugpy_files import hook_folder
from ..runtimes import RUNTIMES
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
from .docker_images import release, resolve
from .docker_launch import OPT_ROOT, RUNTIME_API_ADDR, TASK_ROOT, container_launch
from .host_firewall import EVERY_PORT, FirewallError, HostFirewall

log = logging.getLogger(__name__)

# The container's own log: only the agent's diagnostics (log events go to LOG_PATH).
LOG_CONFIG = LogConfig(type=LogConfig.types.JSON, config={"max-size": "1m", "max-file": "1"})
# Where the instance's log file (log_files.py) is mounted; /dev/null when logs are not stored.
LOG_PATH = "/var/lambkin/log/events"
# The function's user, as Lambda's sbx_user1051 (the images' /etc/passwd names it).
RUNTIME_UID, RUNTIME_GID = 993, 990
RUNTIME_USER = f"{RUNTIME_UID}:{RUNTIME_GID}"
# What the agent (root in the container) keeps: starting the runtime as RUNTIME_USER with no
# supplementary groups takes SETUID and SETGID; signalling that user's processes takes KILL.
AGENT_CAPABILITIES = ["SETUID", "SETGID", "KILL"]
SHM_SIZE = "64m"
# Where the agent binary is mounted (read-only) in every container.
AGENT_PATH = "/var/lambkin/agent/lambkin-agent"
# Where a debugged Python function's debugpy and its start-up hook are mounted (read-only).
DEBUG_HOOK_PATH = "/var/lambkin/debugpy"
ICC_OPTION = "com.docker.network.bridge.enable_icc"
BRIDGE_NAME_OPTION = "com.docker.network.bridge.name"


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
        self.log_dir = settings.instances_dir / "logs" / "docker"
        # Vacant instances' task folders: on the code store's file system (hard links).
        self._tasks_dir = settings.instances_dir / "tasks" / "docker"
        self._tasks_dir.mkdir(parents=True, exist_ok=True)
        self._vacant_images: dict[str, str] = {}  # vacancy's instance id -> its image's id
        # The agent (root in the container, without CAP_DAC_OVERRIDE) writes the log file
        # through its group: ours, which the function's user must not share.
        self._agent_user = f"0:{os.getgid()}"
        if os.getgid() == RUNTIME_GID or os.getuid() == RUNTIME_UID:
            raise DriverMisconfigured(
                f"the server runs as uid {os.getuid()} gid {os.getgid()}, which the functions' "
                f"user ({RUNTIME_USER}) shares, so functions could write the log files: run it "
                "as another user"
            )
        self._agent = str(agent_binary(log.info))  # built here on first use, then cached
        bridge = self._ensure_network(settings.docker_network)
        # Restricted: only the ports meant for instances. Open: every port, while we run (the
        # chain may hold a restricted server's refusal).
        restricted = settings.instance_host_access == "restricted"
        ports = settings.instance_host_ports if restricted else [EVERY_PORT]
        self._firewall: HostFirewall | None = HostFirewall(bridge, server_id, ports)
        if not restricted:
            log.warning(
                "LAMBKIN_INSTANCE_HOST_ACCESS=open: every function can reach every port of this "
                "host (the control plane's API included)"
            )
        try:
            self._firewall.apply()
        except FirewallError as exc:
            if restricted:
                raise DriverMisconfigured(str(exc)) from None
            self._firewall = None  # no iptables we may use: nothing can have shut them either
        self._warn_about_stale_images()

    def _ensure_network(self, name: str) -> str:
        """Our instances' network: a bridge where containers cannot reach one another; the name
        of its bridge interface."""
        try:
            network = self._client.api.inspect_network(name)
        except docker.errors.NotFound:
            try:
                self._client.networks.create(
                    name,
                    driver="bridge",
                    options={ICC_OPTION: "false"},
                    labels={LABEL_MANAGED: "true"},
                    check_duplicate=True,
                )
            except docker.errors.APIError as exc:
                if exc.status_code != 409:  # another server created it meanwhile
                    raise DriverMisconfigured(
                        f"cannot create docker network {name}: {exc.explanation or exc}"
                    ) from None
            network = self._client.api.inspect_network(name)
        options = network.get("Options") or {}
        if network.get("Driver") != "bridge" or options.get(ICC_OPTION) != "false":
            raise DriverMisconfigured(
                f"docker network {name!r} lets containers reach one another (it is not a bridge "
                f"with {ICC_OPTION}=false), so one function could reach another's agent. Set "
                "LAMBKIN_DOCKER_NETWORK to a network made with `docker network create "
                f"-o {ICC_OPTION}=false <name>`, or leave it unset: Lambkin then creates and "
                "uses its own network, `lambkin`"
            )
        configs = (network.get("IPAM") or {}).get("Config") or [{}]
        self._gateway = str(configs[0].get("Gateway") or "")
        return str(options.get(BRIDGE_NAME_OPTION) or "br-" + network["Id"][:12])

    def api_host_for_instances(self) -> str:
        """The bridge's gateway: this host, as the instances see it."""
        if not self._gateway:
            raise DriverMisconfigured(
                f"docker network {self._settings.docker_network!r} has no IPv4 gateway, so "
                "functions cannot reach the API: use a network with one (the default, lambkin)"
            )
        return self._gateway

    async def allow_api_port(self, port: int) -> None:
        """The firewall lets instances reach `port` too (the host's other ports stay shut)."""
        if self._firewall is not None:
            await asyncio.to_thread(self._firewall.allow, port)

    def _warn_about_stale_images(self) -> None:
        """An image built from older runtime sources would behave like the old code."""
        from .. import images

        prefix = self._settings.image_prefix
        for runtime, image in images.RUNTIME_IMAGES.items():
            try:
                status = images.image_status(runtime, self._client, prefix)
            except Exception:  # a source-less install cannot tell; not worth failing start-up
                continue
            if status is images.ImageStatus.STALE:
                log.warning(
                    "image %s is older than its sources: run `make images` to rebuild it",
                    image.tag_for(prefix),
                )

    async def watch(self, listener: ExitListener) -> None:
        """Follow the engine's event stream for our containers' deaths, in a thread."""
        loop = asyncio.get_running_loop()
        self._events = await asyncio.to_thread(
            self._client.events,
            decode=True,
            filters={
                "type": "container",
                "event": ["die", "oom"],
                "label": [f"{LABEL_SERVER}={self._server_id}"],
            },
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
        prefix = self._settings.image_prefix
        present = {
            tag for image in self._client.images.list(name=f"{prefix}/*") for tag in image.tags
        }
        return sorted(
            r for r, spec in RUNTIMES.items() if f"{spec.image_for(prefix)}:latest" in present
        )

    async def resolve_image(self, uri: str) -> ResolvedImage:
        return await asyncio.to_thread(resolve, self._client, uri)

    async def release_image(self, image_id: str) -> None:
        await asyncio.to_thread(release, self._client, image_id)

    async def start(self, spec: InstanceSpec) -> InstanceHandle:
        return await asyncio.to_thread(self._start, spec)

    def _start(self, spec: InstanceSpec) -> InstanceHandle:
        launch = container_launch(spec, self._settings.image_prefix)
        volumes = {self._agent: {"bind": AGENT_PATH, "mode": "ro"}}
        if spec.code_path is not None:
            volumes[str(spec.code_path)] = {"bind": TASK_ROOT, "mode": "ro"}
        if spec.layers_path is not None:
            volumes[str(spec.layers_path)] = {"bind": OPT_ROOT, "mode": "ro"}
        log_path = "/dev/null"
        if self.log_files is not None:
            log_file = self.log_files.create(spec.log_target())
            volumes[str(log_file)] = {"bind": LOG_PATH, "mode": "rw"}
            log_path = LOG_PATH
        # Docker gives the image's ENV to the agent too: blank every name of it (Go and the agent
        # read an empty value as unset), so an image cannot tune GODEBUG, GOMAXPROCS or any
        # LAMBKIN_ setting of the agent. The runtime gets the image's ENV from LAMBKIN_RUNTIME_ENV.
        environment = dict.fromkeys(launch.image_env, "")
        command, runtime_env, debug_settings = spec.debugged(
            launch.command, launch.env, "0.0.0.0", DEBUG_HOOK_PATH
        )
        ports = self._debug_mounts(spec, volumes)
        environment |= spec.agent_environment(
            command, runtime_env, launch.cwd, **self._agent_settings(log_path), **debug_settings
        )
        try:
            container_id, address = self._run_container(
                launch.image,
                name=_container_name(spec),
                labels=spec.labels,
                environment=environment,
                volumes=volumes,
                tmpfs=_tmpfs(spec.config.ephemeral_storage, launch.volumes),
                memory_mb=spec.config.memory_size,
                missing=launch.missing,
                ports=ports,
            )
        except BaseException:
            self._finish_log(spec.instance_id)
            raise
        token = spec.control_token
        return InstanceHandle(spec.instance_id, address, AGENT_CONTROL_PORT, container_id, token)

    def _debug_mounts(
        self, spec: InstanceSpec, volumes: dict[str, dict[str, str]]
    ) -> dict[str, tuple[str, int]]:
        """A debugged instance's port, published on the host's loopback only (other instances
        cannot reach it: inter-container traffic is off), and debugpy, mounted read-only."""
        if spec.debug is None:
            return {}
        if spec.debug.debugger is Debugger.DEBUGPY:
            volumes[str(hook_folder(log.info))] = {"bind": DEBUG_HOOK_PATH, "mode": "ro"}
        return {f"{spec.debug.port}/tcp": ("127.0.0.1", spec.debug.port)}

    def _agent_settings(self, log_path: str) -> dict[str, str]:
        return {
            "LAMBKIN_RUNTIME_API_ADDR": RUNTIME_API_ADDR,
            "LAMBKIN_CONTROL_ADDR": f"0.0.0.0:{AGENT_CONTROL_PORT}",
            "LAMBKIN_MEMORY_SOURCE": "cgroup",
            "LAMBKIN_RUNTIME_USER": RUNTIME_USER,
            "LAMBKIN_LOG_PATH": log_path,
        }

    def _run_container(
        self,
        image: str,
        *,
        name: str,
        labels: dict[str, str],
        environment: dict[str, str],
        volumes: dict[str, dict[str, str]],
        tmpfs: dict[str, str],
        memory_mb: int,
        missing: str,
        ports: dict[str, tuple[str, int]] | None = None,
    ) -> tuple[str, str]:
        """Run one instance's container, the agent its entrypoint: (container id, address)."""
        memory = f"{memory_mb}m"
        try:
            container: Container = self._client.containers.run(
                image,
                detach=True,
                name=name,
                labels=labels,
                environment=environment,
                entrypoint=[AGENT_PATH],  # (the image's own CMD is then ignored)
                volumes=volumes,
                # The only writable places: /tmp (EphemeralStorage) and a bounded /dev/shm.
                read_only=True,
                tmpfs=tmpfs,
                shm_size=SHM_SIZE,
                user=self._agent_user,  # the agent; it starts the runtime as RUNTIME_USER
                cap_drop=["ALL"],
                cap_add=AGENT_CAPABILITIES,
                security_opt=["no-new-privileges"],  # Docker's default seccomp profile stays
                mem_limit=memory,
                # No swap: a function over its memory is OOM-killed, as on Lambda.
                memswap_limit=memory,
                # Lambda gives CPU in proportion to memory (one vCPU at 1769 MB); shares only
                # weigh in under contention, so an idle host still runs a small function fast.
                cpu_shares=max(2, 1024 * memory_mb // 1769),
                pids_limit=1024,
                network=self._settings.docker_network,
                ports=ports or {},
                log_config=LOG_CONFIG,
                # An image's HEALTHCHECK would run its command as the agent's user (root).
                healthcheck={"test": ["NONE"]},
            )
        except docker.errors.ImageNotFound:
            raise StartFailed(missing) from None
        except docker.errors.APIError as exc:
            explanation = str(exc.explanation or exc)
            if ports and ("port is already allocated" in explanation or "in use" in explanation):
                raise StartFailed(
                    f"the debugger's port ({', '.join(str(p[1]) for p in ports.values())}) is "
                    "taken on this host: free it, or tag the function lambkin:debug=<another "
                    "port>"
                ) from None
            raise StartFailed(f"docker could not start the instance: {explanation}") from None
        container.reload()
        container_id = container.id
        assert container_id is not None  # a created container always has one
        address = container.attrs["NetworkSettings"]["IPAddress"] or _first_network_ip(
            container.attrs
        )
        if not address:
            self._remove(container_id)
            raise StartFailed(
                f"container {container.short_id} has no IP address "
                f"on network {self._settings.docker_network}"
            )
        return container_id, address

    # -- vacant instances ------------------------------------------------------------------------

    supports_vacancies = True

    def _task_dir(self, instance_id: str) -> Path:
        return self._tasks_dir / instance_id

    def _opt_dir(self, instance_id: str) -> Path:
        return self._tasks_dir / f"{instance_id}.opt"

    async def start_vacant(self, spec: VacantSpec) -> InstanceHandle:
        return await asyncio.to_thread(self._start_vacant, spec)

    def _start_vacant(self, spec: VacantSpec) -> InstanceHandle:
        """A container of the shape's runtime image whose /var/task is a read-only bind of an
        empty directory of its own: specialising fills the directory (the bind shows what is in
        it), so the code arrives without a new mount and the function still cannot write it."""
        runtime = RUNTIMES[spec.shape.runtime]
        image = runtime.image_for(self._settings.image_prefix)
        task_dir, opt_dir = self._task_dir(spec.instance_id), self._opt_dir(spec.instance_id)
        task_dir.mkdir(mode=0o755)
        opt_dir.mkdir(mode=0o755)
        volumes = {
            self._agent: {"bind": AGENT_PATH, "mode": "ro"},
            str(task_dir): {"bind": TASK_ROOT, "mode": "ro"},
            str(opt_dir): {"bind": OPT_ROOT, "mode": "ro"},  # the layers, if it gets any
        }
        log_path = "/dev/null"
        try:
            if self.log_files is not None:
                log_file = self.log_files.reserve(spec.instance_id)
                volumes[str(log_file)] = {"bind": LOG_PATH, "mode": "rw"}
                log_path = LOG_PATH
            container_id, address = self._run_container(
                image,
                name=f"lambkin-vacant-{spec.shape.runtime}-{spec.instance_id}",
                labels=spec.labels,
                environment=spec.agent_environment(**self._agent_settings(log_path)),
                volumes=volumes,
                tmpfs=_tmpfs(spec.shape.ephemeral_storage_mb, ()),
                memory_mb=spec.shape.memory_mb,
                missing=f"runtime image {image} is missing: build it with `make images`",
            )
            self._vacant_images[spec.instance_id] = self._client.api.inspect_container(
                container_id
            )["Image"]
        except BaseException:
            self._finish_log(spec.instance_id)
            shutil.rmtree(task_dir, ignore_errors=True)
            shutil.rmtree(opt_dir, ignore_errors=True)
            raise
        return InstanceHandle(
            spec.instance_id, address, AGENT_CONTROL_PORT, container_id, spec.control_token
        )

    async def specialise(self, handle: InstanceHandle, spec: InstanceSpec) -> dict[str, str]:
        return await asyncio.to_thread(self._specialise, handle, spec)

    async def adopted(self, handle: InstanceHandle, spec: InstanceSpec) -> None:
        try:
            await asyncio.to_thread(self._client.api.rename, handle.ref, _container_name(spec))
        except docker.errors.APIError as exc:  # gone already, or the name is taken: cosmetic
            log.info("could not rename %s: %s", handle.instance_id, exc.explanation or exc)

    def _specialise(self, handle: InstanceHandle, spec: InstanceSpec) -> dict[str, str]:
        assert spec.runtime is not None and spec.code_path is not None, "an image function"
        assert spec.instance_id == handle.instance_id, "a vacancy keeps its instance id"
        started_from = self._vacant_images.pop(handle.instance_id, None)
        image = spec.runtime.image_for(self._settings.image_prefix)
        try:
            current = self._client.images.get(image).id
        except docker.errors.APIError as exc:
            raise VacancyUnusable(f"cannot inspect {image}: {exc}") from None
        if started_from != current:
            raise VacancyUnusable(f"{image} was rebuilt since the vacancy started")
        _link_tree(spec.code_path, self._task_dir(handle.instance_id))
        if spec.layers_path is not None:
            _link_tree(spec.layers_path, self._opt_dir(handle.instance_id))
        launch = container_launch(spec, self._settings.image_prefix)
        if self.log_files is not None:
            self.log_files.claim(spec.log_target())
        return specialisation(launch.command, launch.env, launch.cwd, spec.init_timeout_s)

    def _finish_log(self, instance_id: str) -> None:
        """Store the rest of an instance's log file (its agent must be gone) and delete it."""
        if self.log_files is not None:
            self.log_files.finish(instance_id)

    def _stop(self, handle: InstanceHandle) -> None:
        if self._remove(handle.ref):
            self._finish_log(handle.instance_id)
            self._vacant_images.pop(handle.instance_id, None)
            shutil.rmtree(self._task_dir(handle.instance_id), ignore_errors=True)
            shutil.rmtree(self._opt_dir(handle.instance_id), ignore_errors=True)
        # else another stop is removing it, and finishes the log once the container is gone

    def _remove(self, container_id: str) -> bool:
        """Kill and remove; True once the container is gone, False if another call is at it."""
        try:
            # v: with its anonymous volumes (none of ours; but never leave one on the disk).
            self._client.api.remove_container(container_id, force=True, v=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise
            return False
        return True

    async def stop(self, handle: InstanceHandle) -> None:
        await asyncio.to_thread(self._stop, handle)

    def _owned_containers(self) -> list[dict[str, Any]]:
        containers: list[dict[str, Any]] = self._client.api.containers(
            all=True,
            filters={"label": [f"{LABEL_MANAGED}=true", f"{LABEL_SERVER}={self._server_id}"]},
        )
        return containers

    async def list_owned(self) -> list[OwnedInstance]:
        containers = await asyncio.to_thread(self._owned_containers)
        return [
            OwnedInstance(
                c["Labels"].get(LABEL_INSTANCE, ""),
                c["Labels"].get(LABEL_FUNCTION, ""),
                ref=c["Id"],
            )
            for c in containers
        ]

    async def reap_owned(self) -> int:
        """Remove every container of ours, then store the log files nobody follows any more."""
        containers = await asyncio.to_thread(self._owned_containers)
        await asyncio.gather(
            *(
                asyncio.to_thread(self._stop, InstanceHandle(_instance_of(c), "", 0, ref=c["Id"]))
                for c in containers
            )
        )
        for task_dir in self._tasks_dir.iterdir():  # vacancies' code, their containers gone
            shutil.rmtree(task_dir, ignore_errors=True)
        if self.log_files is not None:
            await asyncio.to_thread(self.log_files.recover)
        return len(containers)

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
        await asyncio.to_thread(self.close_logs)
        if self._firewall is not None:
            try:
                await asyncio.to_thread(self._firewall.remove)
            except FirewallError as exc:
                log.warning("could not take this server's host ports out: %s", exc)


def _container_name(spec: InstanceSpec) -> str:
    return f"lambkin-{spec.config.name[:40]}-{spec.instance_id}"


def _tmpfs(ephemeral_storage_mb: int, image_volumes: Iterable[str]) -> dict[str, str]:
    # exec, as Lambda's /tmp (Docker's default is noexec): clients unpack native libraries
    # there (AWS's Java client does) and functions run tools they fetched. nosuid stays.
    tmpfs = {"/tmp": f"size={ephemeral_storage_mb}m,mode=1777,exec"}
    # An image's VOLUMEs would be writable volumes on the host's disk: each gets an empty,
    # read-only tmpfs instead (Lambda's file system is read-only but for /tmp).
    tmpfs.update({path: "ro,size=4k" for path in image_volumes if path != "/tmp"})
    return tmpfs


def _link_tree(source: Path, target: Path) -> None:
    """Put the unpacked code at `target` as hard links: no copy of a large package, and the
    files stay the code store's (read-only to the function through the read-only bind). Copies
    where the two are on different file systems."""
    try:
        shutil.copytree(source, target, symlinks=True, copy_function=os.link, dirs_exist_ok=True)
    except shutil.Error as exc:
        if not any("Invalid cross-device link" in str(e) for e in exc.args[0]):
            raise
        shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)


def _instance_of(container: dict[str, Any]) -> str:
    return str((container.get("Labels") or {}).get(LABEL_INSTANCE, ""))


def _first_network_ip(attrs: dict[str, Any]) -> str:
    for network in attrs["NetworkSettings"].get("Networks", {}).values():
        if network.get("IPAddress"):
            return str(network["IPAddress"])
    return ""
