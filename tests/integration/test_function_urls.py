"""Function URLs (issue 16, parts 1-3) with real clients on the docker driver: the config API
with AWS's recorded answers (LocalStack's test_lambda_api.snapshot.json, TestLambdaUrl and
TestLambdaPermissions; test_lambda.snapshot.json, TestLambdaURL), and the URLs themselves
through curl (host form: curl resolves *.localhost to loopback) and httpx (path form): the
event as Lambda builds it, responses, cookies, binary bodies, CORS, Lambda's 403/429/502/504,
AWS_IAM signed and unsigned, and real web frameworks behind a URL (mangum + FastAPI,
Powertools' LambdaFunctionUrlResolver)."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.aws_errors import refusal
from tests.support.server import Server, start_server
from tests.support.signing import CALLER, CI, send, write_credentials
from tests.support.vendored import vendored
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
ARN = "arn:aws:lambda:us-east-1:000000000000:function:"
URL_PATTERN = r"((?!^\d+$)^[0-9a-zA-Z-_]+$)"

ECHO = """
import base64, json, time
def handler(event, context):
    path = event["rawPath"]
    if path == "/fail":
        raise RuntimeError("boom")
    if path == "/slow":
        time.sleep(5)
    if path == "/raw":
        return {"hello": "world"}
    if path == "/text":
        return "just text"
    if path == "/binary":
        return {"statusCode": 200, "headers": {"content-type": "image/png"},
                "body": base64.b64encode(bytes(range(256))).decode(), "isBase64Encoded": True}
    if path == "/cookies":
        return {"statusCode": 201, "cookies": ["a=1; Path=/", "b=2"], "body": "set",
                "headers": {"content-type": "text/plain", "x-custom": "yes"}}
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps(event)}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("urls"))
    yield srv
    assert srv.stop() == 0, srv.log()


def new_name(prefix: str = "url") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def deploy(lam: Any, code: bytes, handler: str = "app.handler", **extra: Any) -> str:
    name = new_name()
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler=handler,
        Code={"ZipFile": code}, Timeout=extra.pop("Timeout", 10), MemorySize=256, **extra,
    )  # fmt: skip
    return name


def public_url(lam: Any, name: str, **config: Any) -> str:
    """A NONE URL with the grant AWS requires for it."""
    url: str = lam.create_function_url_config(FunctionName=name, AuthType="NONE", **config)[
        "FunctionUrl"
    ]
    lam.add_permission(
        FunctionName=name, StatementId="public-url", Action="lambda:InvokeFunctionUrl",
        Principal="*", FunctionUrlAuthType="NONE",
    )  # fmt: skip
    return url


def curl(*args: str) -> tuple[int, dict[str, list[str]], bytes]:
    """curl's status, headers (lower-cased, repeated kept) and body."""
    done = subprocess.run(
        ["curl", "-sS", "-D", "-", "--max-time", "60", *args],
        capture_output=True, check=True, timeout=90,
    )  # fmt: skip
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(lines[0].split()[1]), headers, body


def path_form(server: Server, url: str) -> str:
    """The same URL by path: /lambkin/urls/<id>/ on the server's own address."""
    url_id = url.split("//", 1)[1].split(".", 1)[0]
    return f"{server.endpoint}/lambkin/urls/{url_id}"


def test_url_config_lifecycle_and_aws_answers(server: Server) -> None:
    """TestLambdaUrl::test_url_config_lifecycle, test_url_config_exceptions,
    test_url_config_list_paging, test_url_config_deletion_without_qualifier."""
    lam = server.client()
    name = deploy(lam, make_zip({"app.py": ECHO}))
    created = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert set(created) - {"ResponseMetadata"} == {
        "FunctionUrl", "FunctionArn", "AuthType", "CreationTime",
    }  # fmt: skip
    assert created["FunctionArn"] == f"{ARN}{name}"
    url_id = created["FunctionUrl"].split("//", 1)[1].split(".")[0]
    assert len(url_id) == 32 and url_id.isalnum() and url_id.islower()
    port = server.endpoint.rsplit(":", 1)[1]
    assert created["FunctionUrl"] == f"http://{url_id}.lambda-url.us-east-1.localhost:{port}/"
    assert refusal(lam.create_function_url_config, FunctionName=name, AuthType="NONE") == (
        409, "ResourceConflictException",
        f"Failed to create function url config for [functionArn = {ARN}{name}]. Error message:  "
        "FunctionUrlConfig exists for this Lambda function",
    )  # fmt: skip
    got = lam.get_function_url_config(FunctionName=name)
    assert got["InvokeMode"] == "BUFFERED" and "LastModifiedTime" in got
    updated = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM" and "InvokeMode" not in updated
    assert updated["FunctionUrl"] == created["FunctionUrl"]

    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    aliased = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    assert aliased["FunctionArn"] == f"{ARN}{name}:live"
    listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{ARN}{name}", f"{ARN}{name}:live"]

    pattern = f"Member must satisfy regular expression pattern: {URL_PATTERN}"
    for call in (lam.get_function_url_config, lam.delete_function_url_config):
        for qualifier in ("1", "$LATEST"):
            assert refusal(call, FunctionName=name, Qualifier=qualifier) == (
                400, "ValidationException",
                f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to "
                f"satisfy constraint: {pattern}",
            )  # fmt: skip
        assert refusal(call, FunctionName=f"{name}:other", Qualifier="live") == (
            400, "InvalidParameterValueException",
            "The derived qualifier from the function name does not match the specified qualifier.",
        )  # fmt: skip
        not_found = (404, "ResourceNotFoundException", "The resource you requested does not exist.")
        assert refusal(call, FunctionName=new_name()) == not_found
        assert refusal(call, FunctionName=name, Qualifier="nope") == not_found
    missing = (404, "ResourceNotFoundException", "Function does not exist")
    assert (
        refusal(lam.create_function_url_config, FunctionName=new_name(), AuthType="NONE") == missing
    )
    assert (
        refusal(
            lam.create_function_url_config, FunctionName=name, Qualifier="nope", AuthType="NONE"
        )
        == missing
    )
    assert refusal(lam.list_function_url_configs, FunctionName=new_name()) == missing
    assert refusal(
        lam.create_function_url_config, FunctionName=new_name(), AuthType="NONE",
        InvokeMode="UNKNOWN",
    )[:2] == (400, "ValidationException")  # fmt: skip

    lam.delete_function_url_config(FunctionName=name)
    assert refusal(lam.get_function_url_config, FunctionName=name)[0] == 404
    assert lam.get_function_url_config(FunctionName=name, Qualifier="live")["AuthType"] == "NONE"


def test_resource_policy_answers(server: Server) -> None:
    """TestLambdaPermissions::test_permission_exceptions, test_remove_multi_permissions."""
    lam = server.client()
    name = deploy(lam, make_zip({"app.py": ECHO}))
    arn = f"{ARN}{name}"
    added = lam.add_permission(
        FunctionName=name, StatementId="s3", Action="lambda:InvokeFunction",
        Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::bucket",
    )  # fmt: skip
    assert json.loads(added["Statement"]) == {
        "Sid": "s3", "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "lambda:InvokeFunction", "Resource": arn,
        "Condition": {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::bucket"}},
    }  # fmt: skip
    policy = lam.get_policy(FunctionName=name)
    document = json.loads(policy["Policy"])
    assert (document["Version"], document["Id"], len(document["Statement"])) == (
        "2012-10-17", "default", 1,
    )  # fmt: skip
    add = lam.add_permission
    base = {"FunctionName": name, "Action": "lambda:InvokeFunction", "Principal": "*"}
    assert refusal(add, **base, StatementId="s3") == (
        409, "ResourceConflictException",
        "The statement id (s3) provided already exists. Please provide a new statement id, or "
        "remove the existing statement.",
    )  # fmt: skip
    assert refusal(add, **base, StatementId="example.com")[:2] == (400, "ValidationException")
    assert refusal(add, **base, StatementId="x", Qualifier="$LATEST") == (
        400, "InvalidParameterValueException",
        "We currently do not support adding policies for $LATEST.",
    )  # fmt: skip
    assert refusal(add, **{**base, "Principal": "invalid principal"}, StatementId="x") == (
        400, "InvalidParameterValueException",
        "The provided principal was invalid. Please check the principal and try again.",
    )  # fmt: skip
    assert refusal(add, **{**base, "FunctionName": "doesnotexist"}, StatementId="x") == (
        404, "ResourceNotFoundException", f"Function not found: {ARN}doesnotexist",
    )  # fmt: skip
    assert refusal(add, **base, StatementId="x", Qualifier="alias-doesnotexist") == (
        404, "ResourceNotFoundException", f"Cannot find alias arn: {arn}:alias-doesnotexist",
    )  # fmt: skip
    assert refusal(add, **base, StatementId="x", Qualifier="42") == (
        404, "ResourceNotFoundException", f"Function not found: {arn}:42",
    )  # fmt: skip
    assert refusal(add, **base, StatementId="x", RevisionId="wrong")[:2] == (
        412, "PreconditionFailedException",
    )  # fmt: skip
    remove = lam.remove_permission
    assert refusal(remove, FunctionName=name, StatementId="non-existent") == (
        404, "ResourceNotFoundException", "Statement non-existent is not found in resource policy.",
    )  # fmt: skip
    assert refusal(remove, FunctionName="doesnotexist", StatementId="s3") == (
        404, "ResourceNotFoundException", f"No policy found for: {ARN}doesnotexist",
    )  # fmt: skip
    remove(FunctionName=name, StatementId="s3")
    assert refusal(lam.get_policy, FunctionName=name) == (
        404, "ResourceNotFoundException", "The resource you requested does not exist.",
    )  # fmt: skip
    assert refusal(remove, FunctionName=name, StatementId="s3") == (
        404, "ResourceNotFoundException", "No policy is associated with the given resource.",
    )  # fmt: skip


def test_a_url_through_curl_and_httpx(server: Server) -> None:
    lam = server.client()
    name = deploy(lam, make_zip({"app.py": ECHO}))
    url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
    # AuthType NONE without the grant AWS requires: forbidden.
    status, headers, body = curl(url)
    assert (status, headers["x-amzn-errortype"]) == (403, ["AccessDeniedException"])
    assert json.loads(body)["Message"].startswith("Forbidden.")
    lam.add_permission(
        FunctionName=name, StatementId="public-url", Action="lambda:InvokeFunctionUrl",
        Principal="*", FunctionUrlAuthType="NONE",
    )  # fmt: skip

    status, headers, body = curl(
        f"{url}some/pa%2Fth?q=1&q=2&flag=", "-H", "X-Rep: a", "-H", "X-Rep: b",
        "-b", "session=abc; theme=dark", "-A", "curl-test", "-H", "Content-Type: application/json",
        "--data", '{"k": 1}',
    )  # fmt: skip
    assert status == 200, body
    event = json.loads(body)
    assert (event["version"], event["routeKey"]) == ("2.0", "$default")
    assert (event["rawPath"], event["rawQueryString"]) == ("/some/pa%2Fth", "q=1&q=2&flag=")
    assert event["queryStringParameters"] == {"q": "1,2", "flag": ""}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["headers"]["x-rep"] == "a,b" and "cookie" not in event["headers"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"k": 1}', False)
    http = event["requestContext"]["http"]
    assert (http["method"], http["path"], http["sourceIp"], http["userAgent"]) == (
        "POST", "/some/pa/th", "127.0.0.1", "curl-test",
    )  # fmt: skip
    url_id = event["requestContext"]["apiId"]
    assert (
        url.startswith(f"http://{url_id}.") and event["requestContext"]["accountId"] == "anonymous"
    )
    assert headers["x-amzn-requestid"] == [event["requestContext"]["requestId"]]

    # A binary body arrives base64-encoded; a binary answer leaves as bytes.
    payload = bytes(range(256))
    done = subprocess.run(
        ["curl", "-sS", "--max-time", "60", "-H", "Content-Type: application/octet-stream",
         "--data-binary", "@-", url],
        input=payload, capture_output=True, check=True,
    )  # fmt: skip
    event = json.loads(done.stdout)
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == payload
    status, headers, body = curl(f"{url}binary")
    assert (status, headers["content-type"], body) == (200, ["image/png"], payload)

    # Other answers, as Lambda shapes them.
    status, headers, body = curl(f"{url}cookies")
    assert (status, headers["set-cookie"], headers["x-custom"], body) == (
        201, ["a=1; Path=/", "b=2"], ["yes"], b"set",
    )  # fmt: skip
    assert curl(f"{url}raw")[2] == b'{"hello":"world"}'
    assert curl(f"{url}text")[2] == b"just text"

    # The path form, for clients that cannot set a host: httpx.
    with httpx.Client(timeout=60) as client:
        answer = client.get(f"{path_form(server, url)}/via/path", params={"a": "b"})
        assert answer.status_code == 200
        assert (answer.json()["rawPath"], answer.json()["rawQueryString"]) == ("/via/path", "a=b")
        answer = client.get(f"{server.endpoint}/", headers={"Host": url.split("//")[1].rstrip("/")})
        assert answer.status_code == 200 and answer.json()["rawPath"] == "/"


def test_lambdas_own_answers_for_errors_timeouts_and_throttles(server: Server) -> None:
    lam = server.client()
    name = deploy(lam, make_zip({"app.py": ECHO}), Timeout=1)
    url = public_url(lam, name)
    assert curl(f"{url}fail")[::2] == (502, b"Internal Server Error")
    assert curl(f"{url}slow")[::2] == (504, b"Gateway Timeout")
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=0)
    status, headers, body = curl(url)
    assert (status, headers["x-amzn-errortype"], json.loads(body)) == (
        429, ["TooManyRequestsException"], {"Message": "Rate Exceeded."},
    )  # fmt: skip
    lam.delete_function_concurrency(FunctionName=name)
    assert curl(url)[0] == 200
    # An unknown URL, and a URL whose alias is gone: forbidden (TestLambdaURL::
    # test_lambda_url_persists_after_alias_delete).
    assert curl(url.replace(url.split("//")[1][:32], "0" * 32))[0] == 403
    lam.publish_version(FunctionName=name)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    live = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
    lam.add_permission(
        FunctionName=name, Qualifier="live", StatementId="public-url",
        Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE",
    )  # fmt: skip
    assert curl(live["FunctionUrl"])[0] == 200
    lam.delete_alias(FunctionName=name, Name="live")
    status, headers, body = curl(live["FunctionUrl"])
    assert (status, headers["x-amzn-errortype"]) == (403, ["AccessDeniedException"])


def test_cors_preflight_and_headers_from_the_config(server: Server) -> None:
    lam = server.client()
    name = deploy(lam, make_zip({"app.py": ECHO}))
    cors = {
        "AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["x-token"], "ExposeHeaders": ["x-custom"], "MaxAge": 300,
    }  # fmt: skip
    url = public_url(lam, name, Cors=cors)
    assert lam.get_function_url_config(FunctionName=name)["Cors"] == cors
    status, headers, body = curl(
        "-X", "OPTIONS", url, "-H", "Origin: https://app.example",
        "-H", "Access-Control-Request-Method: POST",
    )  # fmt: skip
    assert status == 200 and body == b""
    assert headers["access-control-allow-origin"] == ["https://app.example"]
    assert headers["access-control-allow-methods"] == ["GET,POST"]
    assert headers["access-control-max-age"] == ["300"]
    status, headers, _ = curl(
        "-X", "OPTIONS", url, "-H", "Origin: https://evil.example",
        "-H", "Access-Control-Request-Method: POST",
    )  # fmt: skip
    assert status == 200 and "access-control-allow-origin" not in headers
    status, headers, _ = curl(f"{url}cookies", "-H", "Origin: https://app.example")
    assert headers["access-control-allow-origin"] == ["https://app.example"]
    assert headers["access-control-expose-headers"] == ["x-custom"]


def test_web_frameworks_behind_a_url(server: Server, tmp_path: Path) -> None:
    """mangum + FastAPI, and Powertools' LambdaFunctionUrlResolver, unchanged."""
    lam = server.client()
    fastapi_app = (
        "from fastapi import FastAPI, Request\nfrom mangum import Mangum\n"
        "app = FastAPI()\n"
        "@app.get('/items/{item_id}')\n"
        "def item(item_id: int, q: str = ''):\n    return {'item_id': item_id, 'q': q}\n"
        "@app.post('/echo')\nasync def echo(request: Request):\n"
        "    return {'got': (await request.body()).decode(), 'cookie': request.cookies.get('c')}\n"
        "handler = Mangum(app, lifespan='off')\n"
    )
    libraries = vendored("fastapi-mangum", "fastapi==0.115.6", "mangum==0.19.0")
    name = deploy(lam, _zip_with(libraries, {"app.py": fastapi_app}), Timeout=30)
    url = public_url(lam, name)
    status, headers, body = curl(f"{url}items/42?q=hi")
    assert (status, json.loads(body)) == (200, {"item_id": 42, "q": "hi"}), body
    status, _, body = curl(
        f"{url}echo", "-b", "c=7", "-H", "Content-Type: text/plain", "--data", "hello"
    )
    assert json.loads(body) == {"got": "hello", "cookie": "7"}
    assert curl(f"{url}items/not-a-number")[0] == 422

    powertools_app = (
        "from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver\n"
        "app = LambdaFunctionUrlResolver()\n"
        "@app.get('/hello/<name>')\n"
        "def hello(name):\n"
        "    return {'hello': name, 'q': app.current_event.get_query_string_value('q')}\n"
        "def handler(event, context):\n    return app.resolve(event, context)\n"
    )
    libraries = vendored("powertools", "aws-lambda-powertools==3.4.0")
    name = deploy(lam, _zip_with(libraries, {"app.py": powertools_app}), Timeout=30)
    url = public_url(lam, name)
    status, _, body = curl(f"{url}hello/ada?q=x")
    assert (status, json.loads(body)) == (200, {"hello": "ada", "q": "x"}), body
    assert curl(f"{url}nowhere")[0] == 404


def _zip_with(libraries: Path, files: dict[str, str]) -> bytes:
    bundled: dict[str, str | bytes] = {
        str(p.relative_to(libraries)): p.read_bytes()
        for p in sorted(libraries.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.name != ".complete"
    }
    bundled.update(files)
    return make_zip(bundled)


def test_aws_iam_urls_take_signed_requests_only(tmp_path: Path) -> None:
    data = tmp_path / "iam"
    data.mkdir()
    srv = start_server(
        "docker", data, args=("--credentials-file", str(write_credentials(data / "creds.toml")))
    )
    try:
        lam = srv.client(access_key=CI.access_key, secret_key=CI.secret_key)
        name = f"orders-{uuid.uuid4().hex[:6]}"
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": ECHO})},
        )  # fmt: skip
        url = lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM")["FunctionUrl"]
        target = f"{path_form(srv, url)}/signed?x=1"
        unsigned = send("GET", target)
        assert (unsigned.status, unsigned.error_type) == (403, "AccessDeniedException"), unsigned
        signed = send("GET", target, user=CALLER)  # invoke:orders-*
        assert signed.status == 200, signed
        iam = signed.json()["requestContext"]["authorizer"]["iam"]
        assert iam["accessKey"] == CALLER.access_key
        assert iam["userArn"] == f"arn:aws:iam::000000000000:user/{CALLER.name}"
        tampered = send("POST", target, body=b"a", user=CALLER, send_body=b"b")
        assert tampered.status == 403
        # NONE without a grant stays closed even to signed callers.
        lam.update_function_url_config(FunctionName=name, AuthType="NONE")
        assert send("GET", target, user=CALLER).status == 403
    finally:
        assert srv.stop() == 0, srv.log()


STREAMING_URL_APP = (Path(__file__).parent / "functions" / "streaming" / "url.mjs").read_text()


def read_chunks(url: str) -> tuple[int, dict[str, str], list[tuple[float, bytes]]]:
    """The status, headers and body pieces of a response, each with when it arrived."""
    started = time.monotonic()
    with httpx.Client(timeout=60) as client, client.stream("GET", url) as response:
        pieces = [(time.monotonic() - started, piece) for piece in response.iter_raw()]
        headers = {
            k.lower(): v for k, v in response.headers.multi_items() if k.lower() != "set-cookie"
        }
        headers["set-cookie"] = ",".join(response.headers.get_list("set-cookie"))
        return response.status_code, headers, pieces


def test_a_response_stream_url_sends_chunks_as_the_handler_writes_them(server: Server) -> None:
    lam = server.client()
    name = new_name()
    lam.create_function(
        FunctionName=name, Runtime="nodejs18.x", Role=ROLE, Handler="url.handler",
        Code={"ZipFile": make_zip({"url.mjs": STREAMING_URL_APP})}, Timeout=10,
    )  # fmt: skip
    url = path_form(server, public_url(lam, name, InvokeMode="RESPONSE_STREAM"))
    status, headers, pieces = read_chunks(f"{url}/http?k=v")
    assert (status, headers["content-type"], headers["x-custom"]) == (201, "text/plain", "yes")
    assert headers["set-cookie"] == "a=1,b=2"
    assert b"".join(p for _, p in pieces) == b"chunk-1 chunk-2 k=v"
    first = next(t for t, p in pieces if p)
    last = pieces[-1][0]
    assert last - first > 0.5, pieces  # the first chunk came before the handler's 1 s sleep ended
    status, headers, pieces = read_chunks(f"{url}/plain")
    assert (status, headers["content-type"]) == (200, "text/plain")
    assert b"".join(p for _, p in pieces) == b"first second"
    status, _, pieces = read_chunks(f"{url}/fail-early")
    assert (status, b"".join(p for _, p in pieces)) == (502, b"Internal Server Error")
    # The instance is free again: the next request is served.
    assert read_chunks(f"{url}/plain")[0] == 200
