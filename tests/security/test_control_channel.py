"""An instance's agent answers only its own control plane: other instances cannot reach it at all
(inter-container communication is off on Lambkin's network), and from the host, a request
without the instance's token gets 401 and changes nothing."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest

from tests.security.hostile import deploy, instance_of, run
from tests.support.server import Server, start_server

pytestmark = pytest.mark.docker


def test_an_instance_cannot_reach_another_instances_agent(server: Server) -> None:
    attacker, victim = deploy(server), deploy(server)
    assert run(server, victim, {"probe": "status"})["Uid"].startswith("993 ")
    before = instance_of(server, victim)

    tried = run(server, attacker, {"probe": "control", "endpoint": before["Endpoint"]})

    for call in ("GET /health", "POST /invoke", "POST /shutdown"):
        assert tried[call]["ok"] is False, f"{call} reached the other instance: {tried[call]}"
    # The victim's instance is untouched: the same one serves its next invocation.
    assert run(server, victim, {"probe": "status"})["Uid"].startswith("993 ")
    after = instance_of(server, victim)
    assert after["InstanceId"] == before["InstanceId"]
    assert after["Invocations"] == before["Invocations"] + 1


def _request(endpoint: str, method: str, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    host, port = endpoint.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(method, path, b"{}", headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


@pytest.mark.parametrize("token", [None, "", "0" * 64])
def test_the_host_needs_the_instances_token(server: Server, token: str | None) -> None:
    name = deploy(server)
    run(server, name, {"probe": "status"})
    before = instance_of(server, name)
    headers = {} if token is None else {"Lambkin-Token": token}
    invoke = {"Lambkin-Request-Id": "stolen", "Lambkin-Timeout-Ms": "1000", **headers}

    for method, path, extra in (
        ("GET", "/health", headers),
        ("POST", "/invoke", invoke),
        ("POST", "/shutdown", headers),
        ("GET", "/anything", headers),
    ):
        status, body = _request(before["Endpoint"], method, path, extra)
        assert status == 401, (method, path, body)
        assert body["errorType"] == "Unauthorized"

    run(server, name, {"probe": "status"})
    after = instance_of(server, name)
    assert after["InstanceId"] == before["InstanceId"]
    assert after["Invocations"] == before["Invocations"] + 1
    assert after["MaxMemoryUsedMB"], "the control plane's own /health still answers"


def test_a_network_where_containers_reach_one_another_is_refused(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Docker's default bridge has inter-container communication on: no server starts on it."""
    with pytest.raises(RuntimeError, match="enable_icc=false") as failed:
        start_server(
            "docker",
            tmp_path_factory.mktemp("icc-on"),
            env={"LAMBKIN_DOCKER_NETWORK": "bridge"},
        ).stop()
    assert "LAMBKIN_DOCKER_NETWORK" in str(failed.value)
