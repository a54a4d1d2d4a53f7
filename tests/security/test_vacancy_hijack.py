"""Vacant instances (orchestrator/vacancies.py) wait on the instances' network for the next cold
start. A function that could reach one and hand it code of its own would run inside another
function's instance, with its environment and its credentials; one that could specialise its own
agent again could swap its runtime. Neither must be possible."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from tests.security.hostile import deploy, instance_of, run
from tests.support.server import Server

pytestmark = pytest.mark.docker

CALLS = ("GET /health", "POST /invoke", "POST /shutdown", "POST /specialise")


def ready_vacancy(server: Server, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        with urllib.request.urlopen(f"{server.endpoint}/lambkin/vacancies", timeout=5) as r:
            shapes = json.loads(r.read())["Shapes"]
        ready = [v for shape in shapes if shape["MemorySize"] == 128 for v in shape["Ready"]]
        if ready:
            return dict(ready[-1])  # the newest: the one the next cold start takes
        assert time.monotonic() < deadline, f"no vacancy became ready: {shapes}"
        time.sleep(0.1)


def test_a_function_cannot_reach_a_vacancy_nor_specialise_its_own_agent(server: Server) -> None:
    attacker = deploy(server)
    run(server, attacker, {"probe": "status"})  # a cold start: demand for a vacancy
    vacancy = ready_vacancy(server)

    tried = run(server, attacker, {"probe": "control", "endpoint": vacancy["Endpoint"]})
    for call in CALLS:
        assert tried[call]["ok"] is False, f"{call} reached a vacant instance: {tried[call]}"
    # Its own agent answers on loopback, but not without the token it never sees.
    own = run(server, attacker, {"probe": "control", "endpoint": "127.0.0.1:9002"})
    for call in CALLS:
        assert own[call] == {"ok": True, "value": 401}, (call, own[call])

    # The vacancy is as it was: the next cold start takes it and runs its own function in it.
    victim = deploy(server)
    assert run(server, victim, {"probe": "status"})["Uid"].startswith("993 ")
    assert instance_of(server, victim)["InstanceId"] == vacancy["InstanceId"]
    listing = run(server, victim, {"probe": "read", "path": "/proc/self/environ"})
    assert f"AWS_LAMBDA_FUNCTION_NAME={victim}" in json.dumps(listing)
