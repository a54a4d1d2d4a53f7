"""C# handlers written for Lambda, compiled unchanged with Mono's mcs against our Amazon.Lambda.*
assemblies, deployed as a zip on `mono6.12` and invoked through boto3 on the docker driver."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.csharp import compile_csharp
from tests.support.server import Server, start_server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::123456789012:role/mono"
SOURCES = Path(__file__).parent / "functions" / "csharp"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("mono"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    dll = compile_csharp(SOURCES, tmp_path_factory.mktemp("mcs"), "Function")
    return make_zip({"Function.dll": dll.read_bytes()})


def invoke(
    server: Server, code: bytes, handler: str, event: Any, **options: Any
) -> tuple[Any, str | None, str]:
    """(the decoded answer, FunctionError, the log tail) of one invocation of a new function."""
    lam = server.client()
    name = f"mono-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name,
        Runtime="mono6.12",
        Role=ROLE,
        Handler=f"Function::Example.{handler}",
        Code={"ZipFile": code},
        Timeout=20,
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    response = lam.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail", **options)
    payload = response["Payload"].read()
    tail = base64.b64decode(response["LogResult"]).decode()
    return (json.loads(payload) if payload else None), response.get("FunctionError"), tail


def test_poco_in_and_out_with_context_and_loggers(server: Server, code: bytes) -> None:
    event = {
        "name": "Ada",
        "times": 2,
        "score": 1.5,
        "loud": True,
        "tags": ["a", "b"],
        "numbers": [1, 2, 3],
        "counts": {"x": 1},
        "home": {"city": "Paris", "zip": 75001},
    }
    answer, error, tail = invoke(server, code, "Function::Greet", event)
    assert error is None, answer
    assert answer["Message"] == "HELLO, ADA!HELLO, ADA!"
    assert answer["Tags"] == ["a!", "b!"] and answer["Sum"] == 6 and answer["Score"] == 3
    assert answer["Counts"] == {"x": 1} and answer["Home"] == {"City": "Paris", "Zip": 75001}
    assert answer["MaybeWasNull"] is True and answer["MemoryLimitInMB"] == 128
    assert answer["LogGroupName"] == f"/aws/lambda/{answer['FunctionName']}"
    assert 0 < answer["RemainingMs"] <= 20_000
    assert "Nothing" not in answer  # SystemTextJson's default: null members are left out
    assert "greeting Ada from the logger" in tail and "static logger line" in tail
    assert f"START RequestId: {answer['RequestId']}" in tail


@pytest.mark.parametrize(
    "handler, event, expected",
    [
        ("Strings::Shout", "hi", "HI (2)"),  # static, string in and out
        ("Strings::Ping", None, "pong"),  # no arguments
        ("Streams::Reverse", "abc", "cba"),  # Stream in and out: the raw bytes
        ("Async::Sum", {"values": [1, 2.5]}, {"Total": 3.5, "Count": 2}),  # Task<T>
        ("Async::Nothing", {}, None),  # Task: an empty answer
    ],
)
def test_strings_streams_and_async_handlers(
    server: Server, code: bytes, handler: str, event: Any, expected: Any
) -> None:
    answer, error, _ = invoke(server, code, handler, event)
    assert error is None, answer
    assert answer == expected


@pytest.mark.parametrize(
    "handler, event, error_type, message",
    [
        ("Thrower::Fail", {"why": "wind"}, "InvalidOperationException", "the fence is down: wind"),
        ("Async::FailLater", "x", "ArgumentException", "async failure: x"),
        ("Async::BothFail", "x", "ArgumentException", "first: x"),
        ("Missing::Nope", {}, "LambdaValidationException", "Unable to load type"),
    ],
)
def test_errors_are_shaped_as_dotnet_runtimes_shape_them(
    server: Server, code: bytes, handler: str, event: Any, error_type: str, message: str
) -> None:
    answer, error, _ = invoke(server, code, handler, event)
    assert error == "Unhandled"
    assert answer["errorType"] == error_type and message in answer["errorMessage"]
    assert isinstance(answer["stackTrace"], list)


def test_error_document_is_lambda_json_exception_writers_with_cause_and_log_record(
    server: Server, code: bytes
) -> None:
    """AWS's LambdaJsonExceptionWriter: errorType, errorMessage, stackTrace (a list of frames),
    then the inner exception as `cause`; the runtime logs the exception as a `fail` record."""
    answer, error, tail = invoke(server, code, "Thrower::Fail", {"why": "wind"})
    assert error == "Unhandled"
    assert list(answer) == ["errorType", "errorMessage", "stackTrace", "cause"]
    assert answer["stackTrace"] and all(f.startswith("at ") for f in answer["stackTrace"])
    assert not any("Lambkin" in frame for frame in answer["stackTrace"]), answer["stackTrace"]
    cause = answer["cause"]
    assert (cause["errorType"], cause["errorMessage"]) == ("FormatException", "the inner cause")
    assert isinstance(cause["stackTrace"], list) and "cause" not in cause
    line = "\tfail\tSystem.InvalidOperationException: the fence is down: wind"
    assert line in tail, tail


def test_an_aggregate_exception_lists_its_causes(server: Server, code: bytes) -> None:
    answer, error, _ = invoke(server, code, "Thrower::Many", "x")
    assert error == "Unhandled"
    assert answer["errorType"] == "AggregateException"
    assert answer["errorMessage"].startswith("both sides")
    assert answer["cause"]["errorMessage"] == "left x"  # InnerException: the first
    assert [(c["errorType"], c["errorMessage"]) for c in answer["causes"]] == [
        ("KeyNotFoundException", "left x"),
        ("KeyNotFoundException", "right x"),
    ]


def test_a_handler_that_cannot_load_keeps_the_runtimes_frames(server: Server, code: bytes) -> None:
    answer, error, _ = invoke(server, code, "Missing::Nope", {})
    assert error == "Unhandled" and answer["errorType"] == "LambdaValidationException"
    assert any("Lambkin.Runtime.Handler" in frame for frame in answer["stackTrace"]), answer


def test_client_context_from_the_invoker_and_never_null_without_one(
    server: Server, code: bytes
) -> None:
    """RuntimeSupport's CognitoClientContext and CognitoIdentity: the header's client, custom and
    env; without the headers, objects whose members are null (never a null context member)."""
    client_context = {
        "client": {"app_title": "Lambkin app", "installation_id": "i-1"},
        "custom": {"tier": "gold"},
        "env": {"locale": "fr_FR"},
    }
    encoded = base64.b64encode(json.dumps(client_context).encode()).decode()
    answer, error, _ = invoke(server, code, "Contexts::Describe", {}, ClientContext=encoded)
    assert error is None, answer
    assert answer == {
        "identityId": None,
        "appTitle": "Lambkin app",
        "custom": "tier=gold",
        "env": "locale=fr_FR",
    }
    answer, error, _ = invoke(server, code, "Contexts::Describe", {})
    assert error is None, answer
    assert answer == {"identityId": None, "appTitle": None, "custom": None, "env": None}


def test_error_documents_over_256_kb_are_truncated_as_aws_truncates_them(
    server: Server, code: bytes
) -> None:
    notice = {"errorMessage": "Exception exceeded maximum payload size of 256KB."}
    answer, error, _ = invoke(server, code, "Thrower::Huge", 300)
    assert error == "Unhandled"
    assert (answer["errorType"], answer["errorMessage"]) == (
        "InvalidOperationException",
        "outer 300",
    )
    assert answer["cause"] == notice  # the inner document alone is too large
    answer, error, _ = invoke(server, code, "Thrower::HugeOuter", 300)
    assert error == "Unhandled" and answer == notice


def test_a_static_handlers_class_initialiser_runs_and_fails_in_init(
    server: Server, code: bytes
) -> None:
    """RuntimeSupport runs a static handler's class constructor during init: its failure is the
    init error, a TypeInitializationException whose cause is the function's exception."""
    answer, error, tail = invoke(server, code, "Unready::Handle", "x")
    assert error == "Unhandled"
    assert answer["errorType"] == "TypeInitializationException", answer
    assert (answer["cause"]["errorType"], answer["cause"]["errorMessage"]) == (
        "InvalidOperationException",
        "no setting",
    )
    assert "\tfail\tSystem.TypeInitializationException" in tail, tail
