"""Issue 3 acceptance on real drivers: scale out, scale in, recycle, throttle, provision, faults."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.server import Client, Server, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
APP = make_zip(
    {
        "app.py": """
import os, time
def sleep(event, context):
    time.sleep(event.get("seconds", 1))
    return {
        "instance": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"],
        "init": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
    }

def hog(event, context):
    blocks = []
    while True:
        blocks.append(bytearray(16 * 1024 * 1024))
"""
    }
)
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]
FAST_HOUSEKEEPING = {"LAMBKIN_MAINTENANCE_INTERVAL_S": "0.1"}


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(
        request.param, tmp_path_factory.mktemp(f"scale-{request.param}"), env=FAST_HOUSEKEEPING
    )
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def lam(server: Server) -> Client:
    return server.client(max_pool_connections=64)


def create(lam: Client, handler: str = "app.sleep", **extra: Any) -> str:
    name = f"s-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": APP},
        Timeout=30,
        **extra,
    )
    return name


def call(
    lam: Client, name: str, payload: dict[str, Any], **extra: Any
) -> tuple[dict[str, Any], Any]:
    """The response and its payload, decoded (any JSON)."""
    response = lam.invoke(FunctionName=name, Payload=json.dumps(payload), **extra)
    return response, json.loads(response["Payload"].read())


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def test_burst_scales_out_then_idles_back_to_zero(lam: Client, server: Server) -> None:
    name = create(lam, Tags={"lambkin:idle-timeout": "2"})
    started = time.monotonic()
    with ThreadPoolExecutor(20) as executor:
        results = list(executor.map(lambda _: call(lam, name, {"seconds": 1}), range(20)))
    elapsed = time.monotonic() - started
    for response, body in results:
        assert "FunctionError" not in response, body
    assert len({body["instance"] for _, body in results}) == 20, (
        "each concurrent invocation gets its own instance"
    )
    assert elapsed < 15, f"20 x 1 s in parallel took {elapsed:.1f} s"
    assert wait_until(lambda: server.instances(name) == [], timeout=10), server.instances(name)


def test_lifetime_recycling_loses_no_invocation(lam: Client, server: Server) -> None:
    name = create(lam, Tags={"lambkin:max-lifetime": "1.5"})
    seen = set()
    deadline = time.monotonic() + 6
    count = 0
    while time.monotonic() < deadline:
        response, body = call(lam, name, {"seconds": 0.05})
        assert response["StatusCode"] == 200 and "FunctionError" not in response, body
        seen.add(body["instance"])
        count += 1
    assert count > 20
    assert len(seen) >= 3, (
        f"instances were recycled: {len(seen)} distinct over 6 s with a 1.5 s lifetime"
    )


def test_reserved_concurrency_throttles_exactly_the_excess(lam: Client) -> None:
    name = create(lam)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)
    assert lam.get_function_concurrency(FunctionName=name)["ReservedConcurrentExecutions"] == 2
    assert lam.get_function(FunctionName=name)["Concurrency"] == {"ReservedConcurrentExecutions": 2}
    call(lam, name, {"seconds": 0})  # warm one instance so the burst is not all cold starts

    def attempt(_: int) -> str:
        try:
            call(lam, name, {"seconds": 2})
            return "ok"
        except lam.exceptions.TooManyRequestsException as exc:
            assert exc.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
            assert exc.response["ResponseMetadata"]["HTTPStatusCode"] == 429
            return "throttled"

    with ThreadPoolExecutor(5) as executor:
        outcomes = list(executor.map(attempt, range(5)))
    assert sorted(outcomes) == ["ok", "ok", "throttled", "throttled", "throttled"]

    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    with pytest.raises(lam.exceptions.TooManyRequestsException):
        call(lam, name, {"seconds": 0})
    lam.delete_function_concurrency(FunctionName=name)
    assert (
        lam.get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions") is None
    )
    assert "FunctionError" not in call(lam, name, {"seconds": 0})[0]


def test_reservation_may_not_eat_the_unreserved_floor(lam: Client) -> None:
    name = create(lam)
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as raised:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=950)
    assert "UnreservedConcurrentExecution" in str(raised.value)


def test_provisioned_instances_are_initialized_before_any_invoke(
    lam: Client, server: Server
) -> None:
    name = create(lam, Publish=True)
    # As on AWS: a published version or an alias, never $LATEST.
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as refused:
        lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="$LATEST", ProvisionedConcurrentExecutions=1
        )
    assert refused.value.response["Error"]["Message"] == (
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions."
    )
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.put_provisioned_concurrency_config(
            FunctionName=name, Qualifier="9", ProvisionedConcurrentExecutions=1
        )
    put = lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="1", ProvisionedConcurrentExecutions=2
    )
    assert put["RequestedProvisionedConcurrentExecutions"] == 2
    assert wait_until(
        lambda: (
            lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")["Status"]
            == "READY"
        ),
        timeout=30,
    )
    instances = server.instances(name)
    assert len(instances) == 2
    assert all(i["State"] == "idle" and i["Provisioned"] and i["Version"] == "1" for i in instances)
    response, body = call(lam, name, {"seconds": 0}, LogType="Tail", Qualifier="1")
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "REPORT RequestId" in tail and "Init Duration" not in tail, tail
    assert body["init"] == "provisioned-concurrency"
    # $LATEST has no provisioned instances: its first call is an on-demand cold start.
    assert call(lam, name, {"seconds": 0})[1]["init"] == "on-demand"
    listed = lam.list_provisioned_concurrency_configs(FunctionName=name)
    arns = [c["FunctionArn"] for c in listed["ProvisionedConcurrencyConfigs"]]
    assert arns == [f"arn:aws:lambda:us-east-1:000000000000:function:{name}:1"]
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="1")
    with pytest.raises(lam.exceptions.ProvisionedConcurrencyConfigNotFoundException):
        lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="1")


def test_provisioned_concurrency_on_an_alias_warms_its_version(lam: Client, server: Server) -> None:
    name = create(lam, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.put_provisioned_concurrency_config(
        FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1
    )
    assert wait_until(
        lambda: (
            lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")["Status"]
            == "READY"
        ),
        timeout=30,
    )
    assert call(lam, name, {"seconds": 0}, Qualifier="live")[1]["init"] == "provisioned-concurrency"
    lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier="live")


ONLY_DOCKER = pytest.mark.parametrize(
    "server", [pytest.param("docker", marks=pytest.mark.docker)], indirect=True
)
ONLY_PROCESS = pytest.mark.parametrize("server", ["process"], indirect=True)


def kill_mid_invocation(lam: Client, server: Server, kill: Callable[[str, str], None]) -> None:
    """Kill a busy instance (kill(function, instance id)): that invocation fails promptly with
    Runtime.ExitError, and the next one succeeds on a fresh instance."""
    name = create(lam)
    call(lam, name, {"seconds": 0})
    [instance] = server.instances(name)
    with ThreadPoolExecutor(1) as executor:
        pending = executor.submit(call, lam, name, {"seconds": 20})
        time.sleep(1)
        killed_at = time.monotonic()
        kill(name, instance["InstanceId"])
        response, body = pending.result(timeout=15)
    assert time.monotonic() - killed_at < 5, "the invoker hears of the death promptly"
    assert response["FunctionError"] == "Unhandled" and body["errorType"] == "Runtime.ExitError"
    response, body = call(lam, name, {"seconds": 0})
    assert "FunctionError" not in response
    assert not body["instance"].endswith(instance["InstanceId"]), "a fresh instance serves it"


@ONLY_DOCKER
def test_docker_kill_of_a_busy_container_fails_fast_and_recovers(
    lam: Client, server: Server
) -> None:
    def docker_kill(function: str, instance_id: str) -> None:
        # By label: an instance that began as a vacancy may not carry its function's name yet.
        (container,) = subprocess.run(
            ["docker", "ps", "-q", "--filter", f"label=org.lambkin.instance={instance_id}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        subprocess.run(["docker", "kill", container], check=True, capture_output=True)

    kill_mid_invocation(lam, server, docker_kill)


@ONLY_PROCESS
def test_killed_agent_process_fails_fast_and_recovers(lam: Client, server: Server) -> None:
    from tests.support.leftovers import leftover_processes

    def kill_agent(function: str, instance_id: str) -> None:
        marker = f"LAMBKIN_INSTANCE_ID={instance_id}".encode()
        for pid in leftover_processes(server.health()["server_id"]):
            with open(f"/proc/{pid}/environ", "rb") as environ:
                if marker in environ.read().split(b"\0"):
                    os.kill(pid, signal.SIGKILL)

    kill_mid_invocation(lam, server, kill_agent)


@ONLY_DOCKER  # memory limits need containers
def test_out_of_memory(lam: Client, server: Server) -> None:
    name = create(lam, "app.hog", MemorySize=128)
    response, body = call(lam, name, {})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory", body
    lam.update_function_configuration(FunctionName=name, Handler="app.sleep")
    assert "FunctionError" not in call(lam, name, {"seconds": 0})[0]
