"""What the swarm driver asks Swarm for, as the Engine API's JSON: pure functions, tested with
tables (tests/unit/test_swarm_spec.py).

One instance is one service of one replica that is never restarted (a task that ends is the
instance's death, as a container's is for the docker driver), with the function's memory as
both its reservation (so Swarm places it where the memory is) and its limit, on an overlay
network of its own, reached by name over DNS round-robin (no VIP: the load balancer needs IPVS,
which these machines lack, and an instance has one task anyway).

The container is the docker driver's, as far as Swarm lets it be: the agent (inside the image,
swarm_images.py) as entry point and PID 1, a read-only root file system, every capability
dropped but the agent's three, /tmp a tmpfs of EphemeralStorage, and /var/task, /opt and the log
file tmpfs mounts the agent fills or writes (files.go, logserve.go) -- tmpfs pages count
against the instance's memory, as the code does on Lambda's own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import AGENT_CONTROL_PORT, LABEL_INSTANCE
from .docker_launch import OPT_ROOT, RUNTIME_API_ADDR, TASK_ROOT
from .swarm_images import AGENT_PATH

LOG_DIR = "/var/lambkin/log"
LOG_PATH = f"{LOG_DIR}/events"
RUNTIME_USER = "993:990"  # as the docker driver's (the images' /etc/passwd names it)
AGENT_CAPABILITIES = ["CAP_SETUID", "CAP_SETGID", "CAP_KILL"]
PIDS_LIMIT = 1024
CODE_TMPFS_MB = 256  # Lambda's largest unzipped package (250 MB), code and layers alike
LOG_TMPFS_MB = 16  # what the control plane has not read yet (read parts are freed)
SHM_MB = 64
# Terminal task states: the instance is gone (Engine API TaskState).
ENDED_STATES = frozenset({"complete", "shutdown", "failed", "rejected", "orphaned", "remove"})
FILE_ROOTS = json.dumps({"task": TASK_ROOT, "opt": OPT_ROOT})


@dataclass
class ServiceRef:
    """The driver's reference to one instance: its service, network and node."""

    service_id: str
    network_id: str
    node_id: str = ""
    task_id: str = ""


@dataclass(frozen=True)
class Placement:
    """What one instance needs from Swarm."""

    name: str
    image: str
    labels: dict[str, str]
    memory_mb: int
    ephemeral_storage_mb: int
    network_id: str
    # Nodes the control plane lost (swarm_nodes.py) that Swarm still counts: never placed on.
    avoid_nodes: tuple[str, ...] = ()
    # An image function's: /var/task and /opt are its image's (no tmpfs over them), and its
    # VOLUMEs get an empty read-only tmpfs each, as on the docker driver (Lambda's file system
    # is read-only but for /tmp).
    own_files: bool = False
    image_volumes: tuple[str, ...] = ()


def agent_environment(
    instance_id: str,
    server_id: str,
    token: str,
    image_env: Mapping[str, str] | None = None,
    file_roots: bool = True,
) -> dict[str, str]:
    """A vacant agent's (base.VacantSpec's variables): its code, layers and function arrive
    over its control port once it runs (swarm.py), not from this machine's disk. An image
    function's agent takes no files (`file_roots` False: its image has them), and every name
    of its image's ENV is blanked for it, as the docker driver does (the agent reads an empty
    value as unset), so an image cannot tune the agent; the runtime gets that ENV in its
    specialisation."""
    blanks = dict.fromkeys(image_env or {}, "")
    roots = {"LAMBKIN_FILE_ROOTS": FILE_ROOTS} if file_roots else {}
    return (
        blanks
        | roots
        | {
            "LAMBKIN_VACANT": "1",
            "LAMBKIN_INSTANCE_ID": instance_id,
            "LAMBKIN_SERVER_ID": server_id,
            "LAMBKIN_CONTROL_TOKEN": token,
            "LAMBKIN_RUNTIME_API_ADDR": RUNTIME_API_ADDR,
            "LAMBKIN_CONTROL_ADDR": f"0.0.0.0:{AGENT_CONTROL_PORT}",
            "LAMBKIN_MEMORY_SOURCE": "cgroup",
            "LAMBKIN_RUNTIME_USER": RUNTIME_USER,
            "LAMBKIN_LOG_PATH": LOG_PATH,
            "LAMBKIN_LOG_SERVE": "1",
            # Swarm's API (1.41) has no no-new-privileges: the agent sets it on itself.
            "LAMBKIN_NO_NEW_PRIVS": "1",
        }
    )


def _tmpfs(target: str, size_mb: int, mode: int) -> dict[str, Any]:
    return {
        "Type": "tmpfs",
        "Target": target,
        "TmpfsOptions": {"SizeBytes": size_mb * 1024 * 1024, "Mode": mode},
    }


def volume_name(instance_id: str, target: str) -> str:
    """An instance's exec tmpfs volume on its node (lambkin-<instance>-var-task, ...)."""
    return f"lambkin-{instance_id}{target.replace('/', '-')}"


def _exec_tmpfs(target: str, size_mb: int, mode: int, labels: dict[str, str]) -> dict[str, Any]:
    """A tmpfs that programs run from (a provided runtime's bootstrap, a layer's /opt/bin, native
    libraries unpacked in /tmp). Docker mounts every tmpfs of the Mounts API noexec, and API 1.41
    (20.10 nodes) has no option against it, so this is an anonymous volume of the local driver,
    itself a tmpfs mounted exec (nosuid and nodev still); named and labelled as the instance,
    so that the driver removes it from the node once the task is gone (swarm_volumes.py)."""
    options = f"size={size_mb}m,mode={mode:o},exec,nosuid,nodev"
    return {
        "Type": "volume",
        "Source": volume_name(labels.get(LABEL_INSTANCE, ""), target),
        "Target": target,
        "VolumeOptions": {
            "NoCopy": True,  # nothing of the image's copied up into it
            "Labels": labels,
            "DriverConfig": {
                "Name": "local",
                "Options": {"type": "tmpfs", "device": "tmpfs", "o": options},
            },
        },
    }


def _mounts(placement: Placement) -> list[dict[str, Any]]:
    code = (
        []
        if placement.own_files
        else [
            _exec_tmpfs(TASK_ROOT, CODE_TMPFS_MB, 0o755, placement.labels),
            _exec_tmpfs(OPT_ROOT, CODE_TMPFS_MB, 0o755, placement.labels),
        ]
    )
    covered = {"/tmp", TASK_ROOT, OPT_ROOT, LOG_DIR, "/dev/shm"}
    volumes = [
        {**_tmpfs(path, 0, 0o755), "ReadOnly": True, "TmpfsOptions": {"SizeBytes": 4096}}
        for path in placement.image_volumes
        if path not in covered
    ]
    return [
        # exec, as on Lambda: clients unpack native libraries in /tmp
        _exec_tmpfs("/tmp", placement.ephemeral_storage_mb, 0o1777, placement.labels),
        *code,
        _tmpfs(LOG_DIR, LOG_TMPFS_MB, 0o700),  # the function's user: no way in
        _tmpfs("/dev/shm", SHM_MB, 0o1777),
        *volumes,
    ]


def service_spec(placement: Placement, env: dict[str, str]) -> dict[str, Any]:
    """The body of POST /services/create for one instance."""
    memory = placement.memory_mb * 1024 * 1024
    return {
        "Name": placement.name,
        "Labels": placement.labels,
        "TaskTemplate": {
            "ContainerSpec": {
                "Image": placement.image,
                "Command": [AGENT_PATH],  # the entry point; the image's CMD is not run
                "Args": [],
                "Env": [f"{k}={v}" for k, v in sorted(env.items())],
                "Labels": placement.labels,
                "User": "0:0",  # the agent; it starts the runtime as RUNTIME_USER
                "ReadOnly": True,
                "Mounts": _mounts(placement),
                "CapabilityDrop": ["ALL"],
                "CapabilityAdd": AGENT_CAPABILITIES,
                "Healthcheck": {"Test": ["NONE"]},
                "StopGracePeriod": 2_000_000_000,
            },
            "Resources": {
                "Limits": {"MemoryBytes": memory, "Pids": PIDS_LIMIT},
                "Reservations": {"MemoryBytes": memory},
            },
            "RestartPolicy": {"Condition": "none", "MaxAttempts": 0},
            "Placement": {"Constraints": [f"node.id!={n}" for n in sorted(placement.avoid_nodes)]},
            "Networks": [{"Target": placement.network_id}],
            "LogDriver": {"Name": "json-file", "Options": {"max-size": "1m", "max-file": "1"}},
        },
        "Mode": {"Replicated": {"Replicas": 1}},
        "EndpointSpec": {"Mode": "dnsrr"},
    }


@dataclass(frozen=True)
class TaskView:
    """What the driver reads from a task: where it runs and how it is doing."""

    state: str
    node_id: str
    address: str  # on the instance's network ("" until it has one)
    error: str


def task_view(task: dict[str, Any], network_id: str) -> TaskView:
    status = task.get("Status") or {}
    address = ""
    for attachment in task.get("NetworksAttachments") or []:
        if (attachment.get("Network") or {}).get("ID") == network_id:
            addresses = attachment.get("Addresses") or [""]
            address = addresses[0].split("/")[0]
    return TaskView(
        state=str(status.get("State") or ""),
        node_id=str(task.get("NodeID") or ""),
        address=address,
        error=str(status.get("Err") or status.get("Message") or ""),
    )


def newest_task(tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A one-replica service that never restarts has one task; newest first, should it not."""
    return max(tasks, key=lambda t: str(t.get("CreatedAt") or ""), default=None)
