"""The core acceptance scenarios, through boto3, against a real server on each driver."""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import Client, Server, start_server
from tests.support.zips import make_zip

FUNCTIONS = Path(__file__).parent / "functions"
APP_ZIP = make_zip({"app.py": (FUNCTIONS / "app.py").read_text()})
ROLE = "arn:aws:iam::123456789012:role/lambda-role"

DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"data-{request.param}"))
    assert srv.health()["driver"] == request.param
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def lam(server: Server) -> Client:
    return server.client()


def create(lam: Client, handler: str, *, zip_bytes: bytes = APP_ZIP, **extra: Any) -> str:
    name = f"t-{handler.split('.')[-1]}-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": zip_bytes},
        **extra,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def invoke(
    lam: Client, name: str, payload: object = None, **extra: Any
) -> tuple[dict[str, Any], Any]:
    """The response and its payload, decoded (any JSON)."""
    response = lam.invoke(
        FunctionName=name, Payload=json.dumps(payload if payload is not None else {}), **extra
    )
    return response, json.loads(response["Payload"].read())


def log_tail(response: dict[str, Any]) -> str:
    return base64.b64decode(response["LogResult"]).decode()


def test_create_invoke_and_warm_reuse(lam: Client, server: Server) -> None:
    name = create(lam, "app.count")
    first_response, first = invoke(lam, name)
    _, second = invoke(lam, name)
    assert first_response["StatusCode"] == 200
    assert "FunctionError" not in first_response
    assert first["counter"] == 1
    assert second["counter"] == 2, (
        "module state must survive: the same instance serves the warm call"
    )
    phases = dict(
        p.split(";dur=")
        for p in first_response["ResponseMetadata"]["HTTPHeaders"]["server-timing"].split(", ")
    )
    assert set(phases) == {"queue", "start", "ready", "init", "invoke"}, phases
    assert all(float(ms) >= 0 for ms in phases.values())
    second_response = lam.invoke(FunctionName=name, Payload=b"{}")
    assert "server-timing" not in second_response["ResponseMetadata"]["HTTPHeaders"], (
        "warm: no start phases"
    )
    assert second["pid"] == first["pid"] and second["imported_at"] == first["imported_at"]
    assert len(server.instances(name)) == 1


def test_get_list_update_delete(lam: Client) -> None:
    name = create(
        lam, "app.version", Environment={"Variables": {"COLOUR": "blue"}}, MemorySize=256, Timeout=7
    )
    got = lam.get_function(FunctionName=name)
    config = got["Configuration"]
    assert config["FunctionName"] == name and config["Runtime"] == "python3.11"
    assert config["MemorySize"] == 256 and config["Timeout"] == 7 and config["State"] == "Active"
    assert (
        config["CodeSha256"]
        == base64.b64encode(__import__("hashlib").sha256(APP_ZIP).digest()).decode()
    )
    assert config["FunctionArn"].endswith(f":function:{name}")
    assert got["Code"]["Location"].startswith("http")
    assert (
        lam.get_function_configuration(FunctionName=config["FunctionArn"])["RevisionId"]
        == config["RevisionId"]
    )
    assert invoke(lam, name)[1] == "v1"

    new_code = make_zip({"app.py": "def version(event, context):\n    return 'v2'\n"})
    updated = lam.update_function_code(FunctionName=name, ZipFile=new_code)
    assert updated["RevisionId"] != config["RevisionId"]
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert invoke(lam, name)[1] == "v2", "the next invoke after an update runs the new code"

    lam.update_function_configuration(
        FunctionName=name, Handler="app.version", Environment={"Variables": {"COLOUR": "red"}}
    )
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    env_code = make_zip(
        {"app.py": "import os\ndef version(event, context):\n    return os.environ['COLOUR']\n"}
    )
    lam.update_function_code(FunctionName=name, ZipFile=env_code)
    assert invoke(lam, name)[1] == "red"

    lam.delete_function(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_function(FunctionName=name)
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName=name, Payload=b"{}")


def test_list_functions_paginates_over_60(lam: Client) -> None:
    prefix = f"page-{uuid.uuid4().hex[:6]}"
    names = {f"{prefix}-{i:02d}" for i in range(60)}
    for name in names:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.echo",
            Code={"ZipFile": APP_ZIP},
        )
    first_page = lam.list_functions(MaxItems=50)
    assert len(first_page["Functions"]) == 50 and "NextMarker" in first_page
    seen: list[str] = []
    for page in lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 25}):
        seen.extend(f["FunctionName"] for f in page["Functions"])
    assert len(seen) == len(set(seen)), "no function appears twice across pages"
    assert names <= set(seen)
    for name in names:
        lam.delete_function(FunctionName=name)


def test_handler_exception_is_unhandled_function_error(lam: Client) -> None:
    name = create(lam, "app.fail")
    response, body = invoke(lam, name, {"why": "testing"})
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "something broke: testing"
    assert isinstance(body["stackTrace"], list) and any(
        "fail" in line for line in body["stackTrace"]
    )


def test_missing_module_is_import_module_error(lam: Client) -> None:
    name = create(lam, "nope.handler")
    response, body = invoke(lam, name)
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "nope" in body["errorMessage"]


def test_timeout_then_next_invocation_succeeds(lam: Client) -> None:
    name = create(lam, "app.sleep", Timeout=1)
    response, body = invoke(lam, name, {"seconds": 5}, LogType="Tail")
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(
        r"RequestId: \S+ Error: Task timed out after 1\.00 seconds", body["errorMessage"]
    )
    assert "END RequestId" in log_tail(response) and "REPORT RequestId" in log_tail(response)
    response, body = invoke(lam, name, {"seconds": 0}, LogType="Tail")
    assert "FunctionError" not in response and body == "woke up"
    assert "Init Duration" in log_tail(response), "the runtime re-initialises after a timeout"


def test_process_exit_then_next_invocation_succeeds(lam: Client) -> None:
    name = create(lam, "app.exit3")
    response, body = invoke(lam, name, {"exit": True})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in body["errorMessage"]
    response, body = invoke(lam, name, {})
    assert "FunctionError" not in response and body == "still alive"


def test_context_object(lam: Client) -> None:
    name = create(lam, "app.context_info", MemorySize=256, Timeout=5)
    client_context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    response, body = invoke(lam, name, LogType="Tail", ClientContext=client_context)
    tail = log_tail(response)
    report = re.search(
        r"REPORT RequestId: (\S+)\s+Duration: [\d.]+ ms\s+Billed Duration: \d+ ms"
        r"\s+Memory Size: 256 MB\s+Max Memory Used: (\d+) MB",
        tail,
    )
    assert report, tail
    assert body["aws_request_id"] == report.group(1) == response["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {body['aws_request_id']}" in tail
    assert f"context probe for {body['aws_request_id']}" in tail
    assert int(report.group(2)) > 0
    assert body["function_name"] == name and body["memory_limit_in_mb"] == 256
    assert body["function_version"] == "$LATEST"
    assert body["invoked_function_arn"].endswith(f":function:{name}")
    assert body["log_group_name"] == f"/aws/lambda/{name}"
    assert "[$LATEST]" in body["log_stream_name"]
    first, second = body["remaining"]
    assert 4000 < first <= 5000 and second < first
    assert body["client_context_custom"] == {"tenant": "t1"}
    assert body["trace_id"] and body["trace_id"].startswith("Root=")
    assert (
        body["env"]["AWS_LAMBDA_FUNCTION_NAME"] == name and body["env"]["AWS_REGION"] == "us-east-1"
    )
    assert body["env"]["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"


def test_tmp_is_writable_and_persists(lam: Client) -> None:
    name = create(lam, "app.tmp")
    key = uuid.uuid4().hex
    assert invoke(lam, name, {"key": key, "write": "kept"})[1] == {"content": "kept"}
    assert invoke(lam, name, {"key": key})[1] == {"content": "kept"}


def test_trace_id_is_passed_through(lam: Client) -> None:
    name = create(lam, "app.context_info")
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    response = lam.invoke(
        FunctionName=name, Payload=b"{}"
    )  # boto3 sends no trace header by default
    assert json.loads(response["Payload"].read())["trace_id"].startswith("Root=1-")
    lam.meta.events.register(
        "before-sign.lambda.Invoke",
        lambda request, **_: request.headers.__setitem__("X-Amzn-Trace-Id", trace),
    )
    try:
        response = lam.invoke(FunctionName=name, Payload=b"{}")
    finally:
        lam.meta.events.unregister("before-sign.lambda.Invoke")
    # Root and Sampled are the caller's; Parent is Lambkin's invocation span, as on Lambda (the
    # function's own segment), so what the handler traces nests under the invocation.
    seen = json.loads(response["Payload"].read())["trace_id"]
    assert seen.startswith("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=") and seen.endswith(
        ";Sampled=1"
    )
    assert (
        response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-trace-id"] == trace
    )  # returned as sent


def test_invoke_by_arn_and_qualifier(lam: Client) -> None:
    name = create(lam, "app.echo")
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    for ref in (arn, f"{name}:$LATEST", f"123456789012:function:{name}"):
        assert invoke(lam, ref, {"ref": ref})[1] == {"ref": ref}
    assert invoke(lam, name, {"q": 1}, Qualifier="$LATEST")[1] == {"q": 1}
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.invoke(FunctionName=name, Qualifier="7", Payload=b"{}")


def test_dry_run_and_invocation_types(lam: Client) -> None:
    name = create(lam, "app.echo")
    assert lam.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    assert lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")["StatusCode"] == 202
    with pytest.raises(ClientError) as raised:
        lam.invoke(FunctionName=name, InvocationType="Sometimes", Payload=b"{}")
    assert raised.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_large_payload_round_trip(lam: Client) -> None:
    name = create(lam, "app.echo", MemorySize=512)
    payload = {
        "data": "x" * 5_000_000,
        "unicode": "héllo wörld € 日本",
        "nested": {"list": list(range(100))},
    }
    assert invoke(lam, name, payload)[1] == payload


def test_oversize_response_is_a_function_error(lam: Client) -> None:
    name = create(lam, "app.big_response", MemorySize=512)
    response, body = invoke(lam, name, {"size": 7 * 1024 * 1024})
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    assert invoke(lam, name, {"size": 10})[1] == "x" * 10
