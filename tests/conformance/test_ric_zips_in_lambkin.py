"""The Go and Java handlers of tests/support/function_images.py as zips, in Lambkin's own
provided.al2023 and java17 runtimes (docker driver): the same contract the images serve."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support import function_images as fi
from tests.support.server import Server, start_server

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
ZIPS: dict[str, tuple[str, str, Callable[[], bytes]]] = {
    "go": ("provided.al2023", "bootstrap", fi.go_bootstrap_zip),
    "java": ("java17", fi.JAVA_HANDLER, fi.java_handler_zip),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("ric-zips"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.mark.parametrize("language", list(ZIPS))
def test_zip_serves_the_contract(server: Server, language: str) -> None:
    runtime, handler, make_zip = ZIPS[language]
    lam = server.client()
    name = f"ric-zip-{language}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": make_zip()},
        Timeout=2,
        MemorySize=256,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)

    def invoke(event: dict[str, Any]) -> tuple[str | None, Any]:
        response = lam.invoke(FunctionName=name, Payload=json.dumps(event))
        return response.get("FunctionError"), json.loads(response["Payload"].read())

    event = {"action": "echo", "text": "héllo"}
    (_, first), (_, second) = invoke(event), invoke(event)
    assert first["event"] == event and (first["count"], second["count"]) == (1, 2), first
    assert first["context"]["function_name"] == name
    assert first["context"]["memory_limit_in_mb"] == 256
    assert 0 < first["context"]["remaining_time_ms"] <= 2000
    failed, error = invoke({"action": "error", "message": "the fence is down"})
    assert (failed, error["errorMessage"]) == ("Unhandled", "the fence is down")
    failed, error = invoke({"action": "sleep", "seconds": 4})
    assert (failed, error["errorType"]) == ("Unhandled", "Sandbox.Timedout"), error
