"""Reading a server's vacant instances (GET /lambkin/vacancies) and a cold start's phases, for
the vacancy tests of every driver (tests/integration/test_vacancies.py, the swarm's)."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from tests.support.server import Server


def vacancies(server: Server) -> dict[str, Any]:
    with urllib.request.urlopen(f"{server.endpoint}/lambkin/vacancies", timeout=5) as response:
        listing: dict[str, Any] = json.loads(response.read())
    return listing


def ready_vacancies(server: Server, memory: int = 128) -> list[dict[str, Any]]:
    return [
        vacancy
        for shape in vacancies(server)["Shapes"]
        if shape["MemorySize"] == memory
        for vacancy in shape["Ready"]
    ]


def wait_for_vacancy(server: Server, memory: int = 128, timeout_s: float = 30) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while not (ready := ready_vacancies(server, memory)):
        assert time.monotonic() < deadline, f"no vacancy became ready: {vacancies(server)}"
        time.sleep(0.05)
    return ready[-1]  # the newest: the one the next cold start takes


def start_phases(response: dict[str, Any]) -> dict[str, str]:
    """A boto3 invoke's Server-Timing phases (a cold start's: queue/start/ready or, from a
    vacancy, specialise/ready; then init and invoke), {} when there are none."""
    timing = response["ResponseMetadata"]["HTTPHeaders"].get("server-timing", "")
    return dict(p.split(";dur=") for p in timing.split(", ")) if timing else {}
