"""The swarm driver's requests to Swarm, and what it reads back from tasks: pure, with tables."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from orchestrator.drivers.swarm_spec import (
    ENDED_STATES,
    Placement,
    agent_environment,
    newest_task,
    service_spec,
    task_view,
)

PLACEMENT = Placement(
    name="lambkin-fn-abc",
    image="registry:5000/lambkin/python3.11:1234-5678",
    labels={"org.lambkin.server": "srv", "org.lambkin.instance": "abc"},
    memory_mb=256,
    ephemeral_storage_mb=512,
    network_id="net1",
)
MB = 1024 * 1024


def spec() -> dict[str, Any]:
    return service_spec(PLACEMENT, agent_environment("abc", "srv", "secret"))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("Mode",), {"Replicated": {"Replicas": 1}}),
        (("EndpointSpec",), {"Mode": "dnsrr"}),  # no VIP: no IPVS on these machines
        (("TaskTemplate", "RestartPolicy", "Condition"), "none"),  # an ended task is a death
        (("TaskTemplate", "Resources", "Limits", "MemoryBytes"), 256 * MB),
        (("TaskTemplate", "Resources", "Reservations", "MemoryBytes"), 256 * MB),
        (("TaskTemplate", "Networks"), [{"Target": "net1"}]),
        (("TaskTemplate", "ContainerSpec", "ReadOnly"), True),
        (("TaskTemplate", "ContainerSpec", "CapabilityDrop"), ["ALL"]),
        (
            ("TaskTemplate", "ContainerSpec", "CapabilityAdd"),
            ["CAP_SETUID", "CAP_SETGID", "CAP_KILL"],
        ),
        (("TaskTemplate", "ContainerSpec", "Command"), ["/var/lambkin/agent/lambkin-agent"]),
        (("TaskTemplate", "ContainerSpec", "Labels"), PLACEMENT.labels),
        (("Labels",), PLACEMENT.labels),
    ],
)
def test_service_spec(path: tuple[str, ...], expected: object) -> None:
    value: Any = spec()
    for key in path:
        value = value[key]
    assert value == expected


def test_the_agent_starts_vacant_and_takes_its_files_and_serves_its_log() -> None:
    env = dict(e.split("=", 1) for e in spec()["TaskTemplate"]["ContainerSpec"]["Env"])
    assert env["LAMBKIN_VACANT"] == "1"
    assert env["LAMBKIN_CONTROL_TOKEN"] == "secret"
    assert json.loads(env["LAMBKIN_FILE_ROOTS"]) == {"task": "/var/task", "opt": "/opt"}
    assert env["LAMBKIN_LOG_SERVE"] == "1"
    assert env["LAMBKIN_NO_NEW_PRIVS"] == "1"  # Swarm's API cannot set it
    assert env["LAMBKIN_LOG_PATH"].startswith("/var/lambkin/log/")
    assert "LAMBKIN_RUNTIME_CMD" not in env  # the function comes over the control port


@pytest.mark.parametrize(
    ("target", "options"),
    [
        # Programs run from these (exec): Docker mounts a tmpfs of the Mounts API noexec.
        ("/tmp", "size=512m,mode=1777,exec,nosuid,nodev"),  # EphemeralStorage
        ("/var/task", "size=256m,mode=755,exec,nosuid,nodev"),  # readable, not writable
        ("/opt", "size=256m,mode=755,exec,nosuid,nodev"),
    ],
)
def test_exec_mounts(target: str, options: str) -> None:
    mounts = {m["Target"]: m for m in spec()["TaskTemplate"]["ContainerSpec"]["Mounts"]}
    assert mounts[target]["Type"] == "volume"
    # named and labelled as the instance: removed from its node after it (swarm_volumes.py)
    assert mounts[target]["Source"] == "lambkin-abc" + target.replace("/", "-")
    assert mounts[target]["VolumeOptions"] == {
        "NoCopy": True,
        "Labels": PLACEMENT.labels,
        "DriverConfig": {
            "Name": "local",
            "Options": {"type": "tmpfs", "device": "tmpfs", "o": options},
        },
    }


@pytest.mark.parametrize(
    ("target", "size", "mode"),
    [
        ("/var/lambkin/log", 16 * MB, 0o700),  # the function's user cannot reach the log
        ("/dev/shm", 64 * MB, 0o1777),
    ],
)
def test_mounts(target: str, size: int, mode: int) -> None:
    mounts = {m["Target"]: m for m in spec()["TaskTemplate"]["ContainerSpec"]["Mounts"]}
    assert mounts[target]["Type"] == "tmpfs"
    assert mounts[target]["TmpfsOptions"] == {"SizeBytes": size, "Mode": mode}


@pytest.mark.parametrize(
    ("task", "view"),
    [
        ({}, ("", "", "", "")),
        (
            {
                "NodeID": "n1",
                "Status": {"State": "running"},
                "NetworksAttachments": [
                    {"Network": {"ID": "other"}, "Addresses": ["10.0.9.2/24"]},
                    {"Network": {"ID": "net1"}, "Addresses": ["10.213.4.2/24"]},
                ],
            },
            ("running", "n1", "10.213.4.2", ""),
        ),
        (
            {"NodeID": "n2", "Status": {"State": "rejected", "Err": "no such image"}},
            ("rejected", "n2", "", "no such image"),
        ),
        (
            {"Status": {"State": "pending", "Message": "no suitable node"}},
            ("pending", "", "", "no suitable node"),
        ),
    ],
)
def test_task_view(task: dict[str, Any], view: tuple[str, str, str, str]) -> None:
    seen = task_view(task, "net1")
    assert (seen.state, seen.node_id, seen.address, seen.error) == view


@pytest.mark.parametrize(
    ("created", "newest"),
    [([], None), (["2026-01-01"], "2026-01-01"), (["2026-01-01", "2026-02-01"], "2026-02-01")],
)
def test_newest_task(created: list[str], newest: str | None) -> None:
    found = newest_task([{"CreatedAt": c} for c in created])
    assert (found or {}).get("CreatedAt") == newest


def test_every_state_after_running_is_an_end() -> None:
    assert {"complete", "failed", "shutdown", "rejected", "orphaned"} <= ENDED_STATES
    assert not {"new", "pending", "assigned", "preparing", "starting", "running"} & ENDED_STATES


def test_an_image_functions_service_keeps_its_images_files_and_blanks_its_env_for_the_agent() -> (
    None
):
    placement = dataclasses.replace(PLACEMENT, own_files=True, image_volumes=("/data", "/tmp"))
    env = agent_environment(
        "abc",
        "srv",
        "secret",
        image_env={"GOMAXPROCS": "64", "LAMBKIN_LOG_PATH": "/x"},
        file_roots=False,
    )
    container = service_spec(placement, env)["TaskTemplate"]["ContainerSpec"]
    mounts = {m["Target"]: m for m in container["Mounts"]}
    assert "/var/task" not in mounts and "/opt" not in mounts  # the image's own
    assert mounts["/data"]["ReadOnly"] is True  # a VOLUME: empty and read-only, as on docker
    assert mounts["/data"]["TmpfsOptions"]["SizeBytes"] == 4096
    assert "size=512m" in mounts["/tmp"]["VolumeOptions"]["DriverConfig"]["Options"]["o"]
    variables = dict(e.split("=", 1) for e in container["Env"])
    assert variables["GOMAXPROCS"] == ""  # the image cannot tune the agent
    assert variables["LAMBKIN_LOG_PATH"] == "/var/lambkin/log/events"  # ours win
    assert "LAMBKIN_FILE_ROOTS" not in variables  # no files pushed to it


def test_a_zip_functions_service_has_tmpfs_for_its_code_and_layers() -> None:
    mounts = {m["Target"] for m in spec()["TaskTemplate"]["ContainerSpec"]["Mounts"]}
    assert {"/tmp", "/var/task", "/opt", "/var/lambkin/log", "/dev/shm"} == mounts
    assert "LAMBKIN_FILE_ROOTS" in agent_environment("abc", "srv", "secret")
