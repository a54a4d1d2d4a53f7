"""AWS's own Python runtime client, unmodified, in a provided.al2023 function behind our agent."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.oracles import awslambdaric_dir
from tests.support.server import Server, start_server
from tests.support.zips import zip_tree

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
APP = """
import os
calls = 0

def handler(event, context):
    global calls
    calls += 1
    return {"event": event, "calls": calls, "request_id": context.aws_request_id,
            "remaining": context.get_remaining_time_in_millis(), "name": context.function_name}

def boom(event, context):
    raise KeyError("missing thing")
"""
BOOTSTRAP = '#!/bin/sh\nexec python3 -m awslambdaric "$_HANDLER"\n'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("ric"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def ric_zip() -> bytes:
    return zip_tree(
        awslambdaric_dir(), {"app.py": APP, "bootstrap": BOOTSTRAP}, executable=("bootstrap",)
    )


@pytest.mark.docker
def test_awslambdaric_runs_unmodified(server: Server, ric_zip: bytes) -> None:
    lam = server.client()
    lam.create_function(
        FunctionName="ric",
        Runtime="provided.al2023",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": ric_zip},
        Timeout=10,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName="ric")
    first = lam.invoke(FunctionName="ric", Payload=json.dumps({"héllo": ["wörld", 1]}))
    body = json.loads(first["Payload"].read())
    assert "FunctionError" not in first, body
    assert body["event"] == {"héllo": ["wörld", 1]}
    assert body["request_id"] == first["ResponseMetadata"]["RequestId"]
    assert 0 < body["remaining"] <= 10000 and body["name"] == "ric"
    second = json.loads(lam.invoke(FunctionName="ric", Payload=b"{}")["Payload"].read())
    assert second["calls"] == 2


@pytest.mark.docker
def test_awslambdaric_errors_reach_the_invoker(server: Server, ric_zip: bytes) -> None:
    lam = server.client()
    lam.create_function(
        FunctionName="ric-boom",
        Runtime="provided.al2023",
        Role=ROLE,
        Handler="app.boom",
        Code={"ZipFile": ric_zip},
    )
    response = lam.invoke(FunctionName="ric-boom", Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "KeyError" and "missing thing" in body["errorMessage"]
    lam.create_function(
        FunctionName="ric-missing",
        Runtime="provided.al2023",
        Role=ROLE,
        Handler="nothere.handler",
        Code={"ZipFile": ric_zip},
    )
    response = lam.invoke(FunctionName="ric-missing", Payload=b"{}")
    assert json.loads(response["Payload"].read())["errorType"] == "Runtime.ImportModuleError"
