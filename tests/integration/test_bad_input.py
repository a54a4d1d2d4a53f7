"""Bad input: every case gets the contract's status and error type; nothing stored is harmed."""

from __future__ import annotations

import base64
import io
import json
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Server, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
ECHO_ZIP = make_zip({"app.py": "def handler(event, context):\n    return event\n"})
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"bad-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def survivor(server: Server) -> str:
    """A function created before the bad input; it must keep working throughout."""
    lam = server.client()
    lam.create_function(
        FunctionName="survivor",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": ECHO_ZIP},
    )
    assert json.loads(
        lam.invoke(FunctionName="survivor", Payload=b'{"ok": 1}')["Payload"].read()
    ) == {"ok": 1}
    return "survivor"


def raw_request(
    server: Server,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], dict[str, Any]]:
    request = urllib.request.Request(
        server.endpoint + path, data=body, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                json.loads(response.read() or b"{}"),
            )
    except urllib.error.HTTPError as exc:
        return (
            exc.code,
            {k.lower(): v for k, v in exc.headers.items()},
            json.loads(exc.read() or b"{}"),
        )


def create_raw(server: Server, **fields: object) -> tuple[int, str, str]:
    body = {
        "FunctionName": f"bad-{uuid.uuid4().hex[:8]}",
        "Runtime": "python3.11",
        "Role": ROLE,
        "Handler": "app.handler",
        "Code": {"ZipFile": base64.b64encode(ECHO_ZIP).decode()},
        **fields,
    }
    status, headers, payload = raw_request(
        server,
        "POST",
        "/2015-03-31/functions",
        json.dumps(body).encode(),
        {"Content-Type": "application/json"},
    )
    return status, headers.get("x-amzn-errortype", ""), payload.get("Message", "")


def zip_b64(data: bytes) -> dict[str, str]:
    return {"ZipFile": base64.b64encode(data).decode()}


@pytest.mark.parametrize(
    ("fields", "status", "error_type", "message_part"),
    [
        ({"FunctionName": "has space"}, 400, "ValidationException", "functionName"),
        # AWS answers this one with InvalidParameterValueException (its recorded answer).
        ({"FunctionName": "x" * 65}, 400, "InvalidParameterValueException", "or equal to 64"),
        ({"FunctionName": "bad/slash"}, 400, "ValidationException", "functionName"),
        ({"Handler": "app handler"}, 400, "ValidationException", "handler"),
        ({"Handler": "a" * 129}, 400, "ValidationException", "handler"),
        ({"MemorySize": 64}, 400, "ValidationException", "greater than or equal to 128"),
        ({"MemorySize": 10241}, 400, "ValidationException", "less than or equal to 10240"),
        ({"Timeout": 0}, 400, "ValidationException", "greater than or equal to 1"),
        ({"Timeout": 901}, 400, "ValidationException", "less than or equal to 900"),
        (
            {"Environment": {"Variables": {"BIG": "x" * 5000}}},
            400,
            "InvalidParameterValueException",
            "4KB",
        ),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
            400,
            "InvalidParameterValueException",
            "AWS_REGION",
        ),
        ({"Environment": {"Variables": {"1BAD": "x"}}}, 400, "ValidationException", "1BAD"),
        (  # a NUL would stop every start of the runtime ("embedded null byte")
            {"Environment": {"Variables": {"NUL": "x\x00y"}}},
            400,
            "InvalidParameterValueException",
            "NUL character",
        ),
        ({"Runtime": "cobol85"}, 400, "InvalidParameterValueException", "python3.11"),
        ({"Role": "not-a-role"}, 400, "ValidationException", "role"),
        (
            {"Code": {"ZipFile": "!!!not base64!!!"}},
            400,
            "InvalidParameterValueException",
            "Could not unzip",
        ),
        (
            {"Code": zip_b64(b"this is not a zip file")},
            400,
            "InvalidParameterValueException",
            "Could not unzip uploaded file",
        ),
        (
            {"Code": {"S3Bucket": "b", "S3Key": "k"}},
            400,
            "InvalidParameterValueException",
            "ZipFile",
        ),
    ],
)
def test_create_function_rejects(
    server: Server,
    survivor: str,
    fields: dict[str, Any],
    status: int,
    error_type: str,
    message_part: str,
) -> None:
    got_status, got_type, message = create_raw(server, **fields)
    assert (got_status, got_type) == (status, error_type), message
    assert message_part in message


def test_zip_with_parent_paths_writes_nothing_outside(server: Server, survivor: str) -> None:
    marker = f"lambkin-escape-{uuid.uuid4().hex}"
    evil = make_zip(
        {"app.py": "x = 1\n", f"../../../../../../tmp/{marker}": "gotcha", f"../{marker}": "gotcha"}
    )
    status, error_type, message = create_raw(server, Code=zip_b64(evil))
    assert (status, error_type) == (400, "InvalidParameterValueException")
    assert not Path(f"/tmp/{marker}").exists()
    assert not list(server.data_dir.rglob(f"*{marker}*"))


def test_zip_bomb_is_rejected_without_filling_the_disk(server: Server, survivor: str) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as out:
            chunk = bytes(1024 * 1024)
            for _ in range(300):
                out.write(chunk)
    before = sum(f.stat().st_size for f in server.data_dir.rglob("*") if f.is_file())
    status, error_type, message = create_raw(server, Code=zip_b64(buffer.getvalue()))
    assert (status, error_type) == (400, "InvalidParameterValueException")
    assert "262144000" in message
    after = sum(f.stat().st_size for f in server.data_dir.rglob("*") if f.is_file())
    assert after - before < 20 * 1024 * 1024


def test_duplicate_create_conflicts(server: Server, survivor: str) -> None:
    lam = server.client()
    with pytest.raises(lam.exceptions.ResourceConflictException):
        lam.create_function(
            FunctionName=survivor,
            Runtime="python3.11",
            Role=ROLE,
            Handler="x.y",
            Code={"ZipFile": ECHO_ZIP},
        )
    assert lam.get_function(FunctionName=survivor)["Configuration"]["Handler"] == "app.handler"


def test_update_with_bad_values_changes_nothing(server: Server, survivor: str) -> None:
    lam = server.client()
    before = lam.get_function_configuration(FunctionName=survivor)
    before.pop("ResponseMetadata")
    with pytest.raises(lam.exceptions.ClientError):
        lam.update_function_configuration(FunctionName=survivor, MemorySize=99999)
    with pytest.raises(lam.exceptions.InvalidParameterValueException):
        lam.update_function_code(FunctionName=survivor, ZipFile=b"not a zip")
    with pytest.raises(lam.exceptions.PreconditionFailedException):
        lam.update_function_configuration(FunctionName=survivor, Timeout=5, RevisionId="stale")
    after = lam.get_function_configuration(FunctionName=survivor)
    after.pop("ResponseMetadata")
    assert after == before


def test_non_json_payload(server: Server, survivor: str) -> None:
    lam = server.client()
    with pytest.raises(lam.exceptions.InvalidRequestContentException):
        lam.invoke(FunctionName=survivor, Payload=b"{not json")


def test_payload_over_6mb(server: Server, survivor: str) -> None:
    lam = server.client()
    payload = json.dumps({"data": "x" * (6 * 1024 * 1024)}).encode()
    with pytest.raises(lam.exceptions.ClientError) as raised:
        lam.invoke(FunctionName=survivor, Payload=payload)
    error = raised.value.response["Error"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    assert error["Code"] == "RequestEntityTooLargeException"  # what AWS sends, per the contract
    assert (
        error["Message"]
        == "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )


def test_unknown_function_and_route(server: Server, survivor: str) -> None:
    status, headers, body = raw_request(
        server, "POST", "/2015-03-31/functions/ghost/invocations", b"{}"
    )
    assert (status, headers.get("x-amzn-errortype")) == (404, "ResourceNotFoundException")
    assert (
        body["Message"]
        == "Function not found: arn:aws:lambda:us-east-1:000000000000:function:ghost:$LATEST"
    )
    status, headers, _ = raw_request(server, "GET", "/2015-03-31/nothing-here")
    assert status == 404 and headers.get("x-amzn-errortype") == "UnknownOperationException"
    status, headers, _ = raw_request(server, "POST", "/2015-03-31/functions", b"[1, 2]")
    assert status == 400 and headers.get("x-amzn-errortype") == "InvalidRequestContentException"
    status, headers, _ = raw_request(server, "POST", "/2015-03-31/functions", b"{broken")
    assert status == 400 and headers.get("x-amzn-errortype") == "InvalidRequestContentException"


# Untrusted strings on the invoke path: the client context and the function name reach the
# agent protocol and the validators; none may break an instance, a connection or a later call.

CONTEXT_ZIP = make_zip(
    {
        "app.py": (
            "def handler(event, context):\n"
            "    cc = context.client_context\n"
            "    return {'event': event, 'custom': cc.custom if cc else None}\n"
        )
    }
)


@pytest.fixture(scope="module")
def context_fn(server: Server) -> str:
    """Echoes the event and `context.client_context.custom`."""
    server.client().create_function(
        FunctionName="context-echo",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": CONTEXT_ZIP},
    )
    return "context-echo"


def invoke_raw(
    server: Server, name: str, payload: bytes, client_context: bytes | None = None
) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers: dict[str, str] = {}
    if client_context is not None:
        headers["X-Amz-Client-Context"] = base64.b64encode(client_context).decode()
    return raw_request(
        server, "POST", f"/2015-03-31/functions/{name}/invocations", payload, headers
    )


def assert_instances_idle(server: Server, name: str) -> None:
    states = [i["State"] for i in server.instances(name)]
    assert "busy" not in states, states


def test_utf8_client_context_reaches_the_function(server: Server, context_fn: str) -> None:
    status, headers, body = invoke_raw(
        server, context_fn, b'{"n": 1}', json.dumps({"custom": {"k": "€"}}).encode()
    )
    assert (status, headers.get("x-amz-function-error")) == (200, None), body
    assert body == {"event": {"n": 1}, "custom": {"k": "€"}}
    # A context that is not the {"custom": ...} shape is still a JSON object: accepted.
    status, _, body = invoke_raw(server, context_fn, b"{}", '{"k":"€"}'.encode())
    assert (status, body) == (200, {"event": {}, "custom": None}), body
    assert_instances_idle(server, context_fn)


def test_client_context_with_line_breaks_cannot_split_the_agent_request(
    server: Server, context_fn: str
) -> None:
    invoke_raw(server, context_fn, b"{}")  # warm: an idle instance, with its agent connection
    warm = {i["InstanceId"] for i in server.instances(context_fn)}
    # Valid JSON, CR/LF between tokens. Written raw, the blank line would end the agent request's
    # headers early: the agent reads the body from the wrong place and the payload's last bytes
    # stay on the connection, where they swallow the next request's first line.
    context = b'{"custom":\r\n\r\n{"k":"v"}}'
    status, headers, body = invoke_raw(server, context_fn, b'{"payload": "whole"}', context)
    next_status, next_headers, next_body = invoke_raw(server, context_fn, b'{"next": true}')
    assert [
        (status, headers.get("x-amz-function-error"), body),
        (next_status, next_headers.get("x-amz-function-error"), next_body),
    ] == [
        (200, None, {"event": {"payload": "whole"}, "custom": {"k": "v"}}),
        (200, None, {"event": {"next": True}, "custom": None}),
    ]
    assert {i["InstanceId"] for i in server.instances(context_fn)} == warm  # served warm
    # LF alone and CR alone, inside and between the members, end to end.
    for context in (b'{"custom":\n{"k":\n"v"}\n}\n', b'{"custom":\r{"k":"v"}\r}'):
        status, headers, body = invoke_raw(server, context_fn, b"[1]", context)
        assert (status, body) == (200, {"event": [1], "custom": {"k": "v"}}), (context, body)
    assert {i["InstanceId"] for i in server.instances(context_fn)} == warm
    assert_instances_idle(server, context_fn)


@pytest.mark.parametrize(
    ("payload", "client_context", "error_type"),
    [
        (b"[" * 100_000 + b"]" * 100_000, None, "InvalidRequestContentException"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, None, "InvalidRequestContentException"),
        # base64 of 2.6 KB: under the 3583-byte limit, yet deeper than Python's parser goes
        (b"{}", b'{"a":' + b"[" * 1300 + b"]" * 1300 + b"}", "InvalidParameterValueException"),
        # Python's parser takes NaN and Infinity; JSON does not, nor AWS's parser
        (b"NaN", None, "InvalidRequestContentException"),
        (b'{"a": [1, -Infinity]}', None, "InvalidRequestContentException"),
        (b"{}", b'{"custom": {"a": NaN}}', "InvalidParameterValueException"),
    ],
    ids=[
        "payload-nested-arrays",
        "payload-nested-objects",
        "client-context-nested",
        "payload-NaN",
        "payload-Infinity",
        "client-context-NaN",
    ],
)
def test_json_our_parser_cannot_take_is_a_client_error(
    server: Server, context_fn: str, payload: bytes, client_context: bytes | None, error_type: str
) -> None:
    status, headers, body = invoke_raw(server, context_fn, payload, client_context)
    assert (status, headers.get("x-amzn-errortype")) == (400, error_type), body
    assert body["message"]
    assert "Traceback" not in server.log()


@pytest.mark.parametrize(
    "quoted_name",
    [
        "survivor%0A",
        "survivor%3A%24LATEST%0A",
        "survivor%0D%0A",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Asurvivor%0A",
        "survivor%00",
    ],
)
def test_function_name_with_a_trailing_line_break_is_refused(
    server: Server, survivor: str, quoted_name: str
) -> None:
    status, headers, body = raw_request(
        server, "POST", f"/2015-03-31/functions/{quoted_name}/invocations", b"{}"
    )
    assert (status, headers.get("x-amzn-errortype")) == (400, "ValidationException"), body
    assert "functionName" in body["message"]
    status, headers, body = raw_request(server, "GET", f"/2015-03-31/functions/{quoted_name}")
    assert (status, headers.get("x-amzn-errortype")) == (400, "ValidationException"), body


def test_create_function_with_a_trailing_line_break_is_refused(
    server: Server, survivor: str
) -> None:
    for fields in (
        {"FunctionName": "trailing-newline\n"},
        {"Handler": "app.handler\n"},
        {"Role": ROLE + "\n"},
        {"Environment": {"Variables": {"NAME\n": "x"}}},
    ):
        status, error_type, message = create_raw(server, **fields)
        assert (status, error_type) == (400, "ValidationException"), (fields, message)
    names = [f["FunctionName"] for f in server.client().list_functions()["Functions"]]
    assert not [name for name in names if "\n" in name], names


def test_server_still_serves_after_bad_input(server: Server, survivor: str) -> None:
    lam = server.client()
    assert server.process.poll() is None
    assert "Traceback" not in server.log()
    assert json.loads(
        lam.invoke(FunctionName=survivor, Payload=b'{"still": "here"}')["Payload"].read()
    ) == {"still": "here"}
