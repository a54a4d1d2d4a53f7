"""Vacant instances (orchestrator/vacancies.py) on real drivers: a cold start takes a vacancy of its
shape and runs there as an ordinary instance of its function (its code only, read-only; its log
stream; its REPORT), the vacancy is replaced, and one taken is never handed to another function;
other shapes start the usual way; a rebuilt runtime image is never served from an older vacancy;
vacancies can be turned off."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.server import Client, Server, start_server
from tests.support.vacancies import ready_vacancies, start_phases, vacancies, wait_for_vacancy
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
APP = """
import os
def handler(event, context):
    root = os.environ["LAMBDA_TASK_ROOT"]
    try:
        open(os.path.join(root, "planted.py"), "w").write("x")
        wrote = True
    except OSError:
        wrote = False
    return {
        "function": os.environ["AWS_LAMBDA_FUNCTION_NAME"],
        "stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
        "files": sorted(os.listdir(root)),
        "marker": open(os.path.join(root, "marker.txt")).read(),
        "wrote_task_root": wrote,
    }
"""
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]
FAST_HOUSEKEEPING = {"LAMBKIN_MAINTENANCE_INTERVAL_S": "0.1"}


def code(marker: str) -> bytes:
    return make_zip({"app.py": APP, "marker.txt": marker, f"only-{marker}.txt": marker})


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(
        request.param, tmp_path_factory.mktemp(f"vacancies-{request.param}"), env=FAST_HOUSEKEEPING
    )
    yield srv
    assert srv.stop() == 0, srv.log()


def deploy(lam: Client, marker: str, **config: Any) -> str:
    name = f"vac-{marker}-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": code(marker)},
        **config,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def invoke(lam: Client, name: str) -> tuple[dict[str, str], dict[str, Any]]:
    """(the start phases of a cold start, or {} when warm; the function's answer)."""
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return start_phases(response), body


def container_names(instance_id: str) -> list[str]:
    listed = subprocess.run(
        [
            "docker",
            "ps",
            "--format",
            "{{.Names}}",
            "--filter",
            f"label=org.lambkin.instance={instance_id}",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def metric(server: Server, name: str) -> float:
    with urllib.request.urlopen(f"{server.endpoint}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    raise AssertionError(f"{name} is not in /metrics")


def test_a_cold_start_takes_a_vacancy_which_then_is_its_functions_alone(
    server: Server,
) -> None:
    lam = server.client()
    first = deploy(lam, "first")
    invoke(lam, first)  # demand: from now on this shape has a vacancy waiting
    vacancy = wait_for_vacancy(server)
    taken_before = metric(server, "lambkin_vacancies_taken_total")

    second = deploy(lam, "second")
    phases, body = invoke(lam, second)

    assert set(phases) == {"specialise", "ready", "init", "invoke"}, phases
    (instance,) = server.instances(second)
    assert instance["InstanceId"] == vacancy["InstanceId"]
    assert body["function"] == second and body["marker"] == "second"
    assert body["stream"].endswith(f"]{vacancy['InstanceId']}")
    assert "only-first.txt" not in body["files"] and "only-second.txt" in body["files"]
    if server.driver == "docker":  # (the process driver isolates nothing: see its module)
        assert body["wrote_task_root"] is False, "the task folder is read-only"
    if server.driver == "docker":  # renamed after its function, as any instance is named
        wanted = f"lambkin-{second}-{vacancy['InstanceId']}"
        deadline = time.monotonic() + 10
        while wanted not in container_names(vacancy["InstanceId"]):
            assert time.monotonic() < deadline, container_names(vacancy["InstanceId"])
            time.sleep(0.05)
    messages = server.log_messages(second, "REPORT")
    report = next(m for m in messages if m.startswith("REPORT"))
    assert "Init Duration" in report, report
    assert metric(server, "lambkin_vacancies_taken_total") == taken_before + 1

    # Replaced: a new vacancy, never the one taken.
    replacement = wait_for_vacancy(server)
    assert replacement["InstanceId"] != vacancy["InstanceId"]

    # Its function deleted, the instance goes for good: it is no vacancy again.
    lam.delete_function(FunctionName=second)
    deadline = time.monotonic() + 15
    while any(i["InstanceId"] == vacancy["InstanceId"] for i in server.instances()):
        assert time.monotonic() < deadline, "the instance outlived its function"
        time.sleep(0.05)
    assert vacancy["InstanceId"] not in {v["InstanceId"] for v in ready_vacancies(server)}
    if server.driver == "docker":
        assert container_names(vacancy["InstanceId"]) == [], "its container is gone"

    # A third function takes the replacement and sees nothing of the second.
    third = deploy(lam, "third")
    phases, body = invoke(lam, third)
    assert "specialise" in phases, phases
    assert server.instances(third)[0]["InstanceId"] != vacancy["InstanceId"]
    assert "only-second.txt" not in body["files"]
    if server.driver == "docker":
        assert "planted.py" not in body["files"]
    lam.delete_function(FunctionName=first)
    lam.delete_function(FunctionName=third)


def test_another_shape_starts_the_usual_way(server: Server) -> None:
    lam = server.client()
    invoke(lam, deploy(lam, "small"))
    wait_for_vacancy(server)
    bigger = deploy(lam, "bigger", MemorySize=256)
    phases, body = invoke(lam, bigger)
    assert set(phases) == {"queue", "start", "ready", "init", "invoke"}, phases
    assert body["marker"] == "bigger"
    assert ready_vacancies(server), "the 128 MB vacancy is still there for its own shape"
    # The cold start was demand for its own shape: one of 256 MB follows.
    wait_for_vacancy(server, memory=256)


@pytest.mark.docker
def test_a_rebuilt_runtime_image_is_never_served_from_an_older_vacancy(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    srv = start_server("docker", tmp_path_factory.mktemp("vacancy-image"), env=FAST_HOUSEKEEPING)
    image = "lambkin/python3.11:latest"
    original = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Id}}", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    rebuilt = ""
    try:
        lam = srv.client()
        invoke(lam, deploy(lam, "before"))
        stale = wait_for_vacancy(srv)
        # `make images` after a change to the runtime: the tag now names another image.
        rebuilt = subprocess.run(
            ["docker", "build", "-q", "-t", image, "--label", f"rebuilt={uuid.uuid4().hex}", "-"],
            input=f"FROM {original}\n",
            text=True,
            capture_output=True,
            check=True,
        ).stdout.strip()
        after = deploy(lam, "after")
        phases, body = invoke(lam, after)
        assert set(phases) == {"queue", "start", "ready", "init", "invoke"}, phases
        assert body["marker"] == "after"
        assert srv.instances(after)[0]["InstanceId"] != stale["InstanceId"]
    finally:
        subprocess.run(["docker", "tag", original, image], check=True)
        assert srv.stop() == 0, srv.log()
        if rebuilt:
            subprocess.run(["docker", "rmi", rebuilt], capture_output=True, check=False)


def test_vacancies_can_be_turned_off(tmp_path_factory: pytest.TempPathFactory) -> None:
    srv = start_server(
        "process",
        tmp_path_factory.mktemp("no-vacancies"),
        env={**FAST_HOUSEKEEPING, "LAMBKIN_VACANCY_MEMORY_MB": "0"},
    )
    try:
        lam = srv.client()
        for marker in ("one", "two"):
            phases, _ = invoke(lam, deploy(lam, marker))
            assert "start" in phases and "specialise" not in phases
        time.sleep(0.5)  # a few housekeeping ticks
        assert vacancies(srv) == {"Enabled": False, "Taken": 0, "Shapes": []}
    finally:
        assert srv.stop() == 0, srv.log()
