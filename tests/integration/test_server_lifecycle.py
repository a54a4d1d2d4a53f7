"""The server owns its instances: SIGTERM removes them all, a restart reaps a crashed run's."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest

from tests.support.leftovers import leftovers
from tests.support.server import Server, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
APP = make_zip(
    {
        "app.py": "import time\n"
        "def handler(event, context):\n"
        "    time.sleep(event.get('sleep', 0))\n"
        "    return 'ok'\n"
    }
)
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]


def deploy_and_warm(server: Server, names: list[str]) -> None:
    lam = server.client()
    for name in names:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": APP},
        )
        assert json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()) == "ok"


@pytest.mark.parametrize("driver", DRIVERS)
def test_sigterm_removes_every_instance(driver: str, tmp_path: Path) -> None:
    server = start_server(driver, tmp_path)
    server_id = server.health()["server_id"]
    deploy_and_warm(server, ["one", "two"])
    assert len(leftovers(driver, server_id)) >= 2
    assert server.stop(signal.SIGTERM) == 0, server.log()
    assert leftovers(driver, server_id) == []


@pytest.mark.parametrize("driver", DRIVERS)
def test_restart_after_kill_9_reaps_old_instances(driver: str, tmp_path: Path) -> None:
    server = start_server(driver, tmp_path)
    server_id = server.health()["server_id"]
    deploy_and_warm(server, ["survives-crash"])
    server.stop(signal.SIGKILL)
    assert leftovers(driver, server_id), "kill -9 leaves the instances behind"
    restarted = start_server(driver, tmp_path)
    try:
        assert restarted.health()["server_id"] == server_id, (
            "the data dir keeps the server's identity"
        )
        deadline = time.monotonic() + 10
        while leftovers(driver, server_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert leftovers(driver, server_id) == []
        lam = restarted.client()
        assert (
            json.loads(lam.invoke(FunctionName="survives-crash", Payload=b"{}")["Payload"].read())
            == "ok"
        )
    finally:
        assert restarted.stop() == 0


@pytest.mark.parametrize("driver", DRIVERS)
def test_warm_invocations_share_one_connection(driver: str, tmp_path: Path) -> None:
    server = start_server(driver, tmp_path)
    try:
        deploy_and_warm(server, ["warm"])
        lam = server.client()

        def accepted() -> int:
            # Asked of the agent by the server (only it has the instance's token).
            [instance] = server.instances("warm")
            return int(instance["AgentConnections"])

        before = accepted()
        for _ in range(30):
            lam.invoke(FunctionName="warm", Payload=b"{}")
        # The only new connection is the listing's own probe: the 30 invocations opened none.
        assert accepted() == before + 1
        assert server.instances("warm")[0]["Invocations"] == 31
    finally:
        assert server.stop() == 0
