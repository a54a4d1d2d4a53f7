"""Probes on function URLs: a URL request never reaches the API (whatever its path or host
tricks), a URL of AuthType NONE is closed until the function's policy grants it exactly as AWS
requires, AWS_IAM URLs take only callers allowed to invoke the function, and a function cannot
split the response with its headers."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Server, start_server
from tests.support.signing import AUDITOR, CALLER, CI, send, write_credentials
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::000000000000:role/orders"
ECHO = (
    "import json\n"
    "def handler(event, context):\n"
    "    if event['rawPath'] == '/split':\n"
    "        return {'statusCode': 200, 'headers': {'x-a': 'v\\r\\nSet-Cookie: stolen=1'}}\n"
    "    return {'statusCode': 200, 'body': json.dumps({'rawPath': event['rawPath']})}\n"
)


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("url-probes")
    server = start_server(
        "docker", data, args=("--credentials-file", str(write_credentials(data / "creds.toml")))
    )
    yield server
    assert server.stop() == 0, server.log()


def function_with_url(server: Server, auth: str) -> tuple[Any, str, str]:
    lam = server.client(access_key=CI.access_key, secret_key=CI.secret_key)
    name = f"orders-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": ECHO})},
    )  # fmt: skip
    url: str = lam.create_function_url_config(FunctionName=name, AuthType=auth)["FunctionUrl"]
    return lam, name, url.split("//", 1)[1].split(".", 1)[0]


def raw(server: Server, path: str, host: str | None = None) -> tuple[int, bytes]:
    """A request exactly as written (curl --path-as-is: no normalising of `..`)."""
    args = ["curl", "-sS", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", "--max-time", "60"]
    if host:
        args += ["-H", f"Host: {host}"]
    done = subprocess.run([*args, server.endpoint + path], capture_output=True, check=True)
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), body


def test_a_url_request_never_reaches_the_api(guarded: Server) -> None:
    lam, name, url_id = function_with_url(guarded, "NONE")
    lam.add_permission(
        FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
        FunctionUrlAuthType="NONE",
    )  # fmt: skip
    host = f"{url_id}.lambda-url.us-east-1.localhost"
    # The API's paths under a URL's host are the function's paths, unsigned or not.
    for path in ("/2015-03-31/functions", "/lambkin/instances", "/metrics"):
        status, body = raw(guarded, path, host)
        assert (status, json.loads(body)) == (200, {"rawPath": path}), body
    # The path form cannot climb out of its URL.
    status, body = raw(guarded, f"/lambkin/urls/{url_id}/../../../2015-03-31/functions")
    assert b"Functions" not in body and status in (200, 403, 404), body
    # An unknown URL id answers 403 and nothing else; the API itself still wants a signature.
    for target in (("0" * 32) + ".lambda-url.us-east-1.localhost", None):
        status, body = raw(guarded, "/2015-03-31/functions", target)
        assert status == 403 and b"Functions" not in body, body


@pytest.mark.parametrize(
    "grant",
    [
        {"Principal": "*", "Action": "lambda:InvokeFunctionUrl"},  # no auth-type condition
        {"Principal": "*", "Action": "lambda:InvokeFunction", "FunctionUrlAuthType": "NONE"},
        {"Principal": "123456789012", "Action": "lambda:InvokeFunctionUrl",
         "FunctionUrlAuthType": "NONE"},
        {"Principal": "*", "Action": "lambda:InvokeFunctionUrl", "FunctionUrlAuthType": "AWS_IAM"},
    ],
)  # fmt: skip
def test_a_public_url_needs_exactly_awss_grant(guarded: Server, grant: dict[str, str]) -> None:
    lam, name, url_id = function_with_url(guarded, "NONE")
    lam.add_permission(FunctionName=name, StatementId="near-miss", **grant)
    status, _ = raw(guarded, f"/lambkin/urls/{url_id}/")
    assert status == 403


def test_iam_urls_take_only_callers_allowed_to_invoke(guarded: Server) -> None:
    _, _, url_id = function_with_url(guarded, "AWS_IAM")
    target = f"{guarded.endpoint}/lambkin/urls/{url_id}/x"
    assert send("GET", target, user=CALLER).status == 200  # invoke:orders-*
    assert send("GET", target, user=AUDITOR).status == 403  # read only
    assert send("GET", target).status == 403  # unsigned


def test_a_function_cannot_split_the_response(guarded: Server) -> None:
    lam, name, url_id = function_with_url(guarded, "NONE")
    lam.add_permission(
        FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl", Principal="*",
        FunctionUrlAuthType="NONE",
    )  # fmt: skip
    request = urllib.request.Request(f"{guarded.endpoint}/lambkin/urls/{url_id}/split")
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=60)
    assert failed.value.code == 502
    assert "stolen" not in str(failed.value.headers)


def test_urls_on_an_open_server_of_auth_type_iam_are_closed(tmp_path: Path) -> None:
    """No credentials file: nobody's signature can be checked, so nobody passes."""
    server = start_server("docker", tmp_path / "open")
    try:
        lam = server.client()
        lam.create_function(
            FunctionName="iam-url", Runtime="python3.11", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": ECHO})},
        )  # fmt: skip
        url = lam.create_function_url_config(FunctionName="iam-url", AuthType="AWS_IAM")
        url_id = url["FunctionUrl"].split("//", 1)[1].split(".", 1)[0]
        assert raw(server, f"/lambkin/urls/{url_id}/")[0] == 403
    finally:
        assert server.stop() == 0, server.log()
