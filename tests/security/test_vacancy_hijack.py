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

from tests.security.hostile import deploy, run
from tests.support.server import Server

pytestmark = pytest.mark.docker

CALLS = ("GET /health", "POST /invoke", "POST /shutdown", "POST /specialise")


def vacancies_of_128(server: Server) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.endpoint}/lambkin/vacancies", timeout=5) as r:
        shapes = json.loads(r.read())["Shapes"]
    ours = [shape for shape in shapes if shape["MemorySize"] == 128]
    return ours[0] if ours else {"Ready": [], "Starting": 0}


def settled_vacancies(server: Server, timeout_s: float = 30) -> list[dict[str, Any]]:
    """The ready vacancies once none is starting, so the next cold start takes one of these."""
    deadline = time.monotonic() + timeout_s
    while True:
        shape = vacancies_of_128(server)
        if shape["Ready"] and not shape["Starting"]:
            return [dict(v) for v in shape["Ready"]]
        assert time.monotonic() < deadline, f"no vacancy settled: {shape}"
        time.sleep(0.1)


def test_a_function_cannot_reach_a_vacancy_nor_specialise_its_own_agent(server: Server) -> None:
    attacker = deploy(server)
    run(server, attacker, {"probe": "status"})  # a cold start: demand for a vacancy
    # Every vacancy the next cold start could take is probed (the shelf keeps more than one).
    probed: set[str] = set()
    while unprobed := [v for v in settled_vacancies(server) if v["InstanceId"] not in probed]:
        for vacancy in unprobed:
            tried = run(server, attacker, {"probe": "control", "endpoint": vacancy["Endpoint"]})
            for call in CALLS:
                assert tried[call]["ok"] is False, f"{call} reached a vacancy: {tried[call]}"
            probed.add(vacancy["InstanceId"])
    # Its own agent answers on loopback, but not without the token it never sees.
    own = run(server, attacker, {"probe": "control", "endpoint": "127.0.0.1:9002"})
    for call in CALLS:
        assert own[call] == {"ok": True, "value": 401}, (call, own[call])

    # The probes broke none of them: every probed vacancy is still on the shelf, ready. (Which
    # one the next cold start takes is the newest, and the shelf refills as it likes, so the
    # victim below may get a newer one: what it must get is its own function.)
    intact = {v["InstanceId"] for v in vacancies_of_128(server)["Ready"]}
    assert probed <= intact, (probed, vacancies_of_128(server))
    victim = deploy(server)
    assert run(server, victim, {"probe": "status"})["Uid"].startswith("993 ")
    listing = run(server, victim, {"probe": "read", "path": "/proc/self/environ"})
    assert f"AWS_LAMBDA_FUNCTION_NAME={victim}" in json.dumps(listing)
