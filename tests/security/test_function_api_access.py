"""Functions calling the platform (issue 14, part 3): on a server with a credentials file each
instance gets temporary credentials for its function's execution role and the SDKs' endpoint
variables, so `boto3.client("lambda").invoke(...)` inside a function calls another function
with no configuration; the role's permissions in the credentials file decide what it may do,
and nothing else gets in with them.

On both drivers: docker (the API on the instances' bridge gateway, its port let through the
host firewall, the image's own boto3) and process (the host's loopback, the host's boto3).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.server import Server, start_server
from tests.support.signing import ALICE, write_credentials
from tests.support.zips import make_zip

ORDERS_ROLE = "arn:aws:iam::000000000000:role/orders"  # write_credentials: invoke:orders-*
UNLISTED_ROLE = "arn:aws:iam::000000000000:role/nobody"  # not in the file: may do nothing

CALLER = """
import json, os
import boto3
from botocore.exceptions import ClientError

def attempt(call):
    try:
        return call()
    except ClientError as exc:
        return [exc.response["Error"]["Code"], exc.response["Error"]["Message"]]

def handler(event, context):
    lam = boto3.client("lambda")  # no endpoint, no keys: the environment says it all
    out = {
        "key": os.environ["AWS_ACCESS_KEY_ID"],
        "endpoint": os.environ["AWS_ENDPOINT_URL_LAMBDA"],
        "logs_endpoint": os.environ["AWS_ENDPOINT_URL_CLOUDWATCH_LOGS"],
        "logs_short": os.environ["AWS_ENDPOINT_URL_LOGS"],
    }
    for name in event.get("invoke", []):
        out[name] = attempt(lambda: json.loads(
            lam.invoke(FunctionName=name, Payload=json.dumps({"from": context.function_name}))
            ["Payload"].read()))
    out["create"] = attempt(lambda: lam.create_function(
        FunctionName="orders-planted", Runtime="python3.11", Handler="app.handler",
        Role="arn:aws:iam::000000000000:role/orders", Code={"ZipFile": b"PK"})["FunctionName"])
    out["list"] = attempt(lambda: len(lam.list_functions()["Functions"]))
    out["logs"] = attempt(lambda: len(
        boto3.client("logs").describe_log_groups()["logGroups"]))
    token = os.environ["AWS_SESSION_TOKEN"]
    altered = token[:-4] + ("AAAA" if token[-4:] != "AAAA" else "BBBB")
    forged = boto3.client("lambda", aws_access_key_id=out["key"],
                          aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
                          aws_session_token=altered)
    out["forged"] = attempt(lambda: forged.invoke(FunctionName=event["invoke"][0])["StatusCode"])
    import urllib.error, urllib.request
    try:
        with urllib.request.urlopen(out["endpoint"] + "/metrics", timeout=5) as metrics:
            out["metrics"] = metrics.status
    except urllib.error.HTTPError as exc:
        out["metrics"] = exc.code
    bare = boto3.client("lambda", aws_access_key_id=out["key"],
                        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"])
    out["no_token"] = attempt(lambda: bare.invoke(FunctionName=event["invoke"][0])["StatusCode"])
    return out
"""
ECHO = "def handler(event, context):\n    return {'echo': event, 'me': context.function_name}\n"


@pytest.fixture(scope="module", params=["docker", "process"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    data = tmp_path_factory.mktemp(f"function-api-{request.param}")
    credentials = write_credentials(data / "credentials.toml")
    server = start_server(request.param, data, args=("--credentials-file", str(credentials)))
    yield server
    assert server.stop() == 0, server.log()


def deploy(server: Server, name: str, source: str, role: str) -> None:
    lam = server.client("lambda", ALICE.access_key, ALICE.secret_key)
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": source})}, Timeout=60,
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=name)


def invoke(server: Server, name: str, event: dict[str, Any]) -> dict[str, Any]:
    lam = server.client("lambda", ALICE.access_key, ALICE.secret_key)
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    body: dict[str, Any] = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return body


def denied(role: str, function: str, action: str, resource: str) -> list[str]:
    role_name = role.rsplit("/", 1)[-1]
    return [
        "AccessDeniedException",
        f"User: arn:aws:sts::000000000000:assumed-role/{role_name}/{function} is not "
        f"authorized to perform: {action} on resource: {resource}",
    ]


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


def test_a_function_calls_another_with_its_roles_credentials_and_no_more(guarded: Server) -> None:
    suffix = uuid.uuid4().hex[:6]
    caller, target, other = f"orders-caller-{suffix}", f"orders-echo-{suffix}", f"billing-{suffix}"
    deploy(guarded, caller, CALLER, ORDERS_ROLE)
    deploy(guarded, target, ECHO, ORDERS_ROLE)
    deploy(guarded, other, ECHO, ORDERS_ROLE)

    out = invoke(guarded, caller, {"invoke": [target, other]})

    # Temporary credentials (ASIA...), an endpoint the instance reaches.
    assert out["key"].startswith("ASIA"), out
    assert out["endpoint"] == out["logs_endpoint"] == out["logs_short"]
    assert out["endpoint"].startswith("http://"), out
    # Its role may invoke orders-*: the call went through, as the function itself.
    assert out[target] == {"echo": {"from": caller}, "me": target}
    # ... and nothing else: AWS's refusal, naming the role's session.
    assert out[other] == denied(ORDERS_ROLE, caller, "lambda:InvokeFunction", function_arn(other))
    assert out["create"] == denied(
        ORDERS_ROLE, caller, "lambda:CreateFunction", function_arn("orders-planted")
    )
    assert out["list"][0] == "AccessDeniedException", out["list"]
    assert out["logs"][0] == "AccessDeniedException", out["logs"]
    # A token it altered, or its keys without the token, are not credentials at all.
    assert out["forged"][0] == "UnrecognizedClientException", out["forged"]
    assert out["no_token"][0] == "UnrecognizedClientException", out["no_token"]
    # Isolated instances get a listener of their own, without the platform's metrics; the
    # process driver's functions are host processes, which reach the main listener anyway.
    assert out["metrics"] == (404 if guarded.driver == "docker" else 200), out
    admin = guarded.client("lambda", ALICE.access_key, ALICE.secret_key)
    names = {f["FunctionName"] for f in admin.list_functions()["Functions"]}
    assert "orders-planted" not in names


def test_a_role_the_credentials_file_does_not_name_may_do_nothing(guarded: Server) -> None:
    suffix = uuid.uuid4().hex[:6]
    caller, target = f"orders-stranger-{suffix}", f"orders-echo2-{suffix}"
    deploy(guarded, caller, CALLER, UNLISTED_ROLE)
    deploy(guarded, target, ECHO, ORDERS_ROLE)
    out = invoke(guarded, caller, {"invoke": [target]})
    assert out[target] == denied(
        UNLISTED_ROLE, caller, "lambda:InvokeFunction", function_arn(target)
    )


def test_each_instance_has_credentials_of_its_own(guarded: Server) -> None:
    """Two functions never share keys: one function's credentials are not another's."""
    suffix = uuid.uuid4().hex[:6]
    keys = set()
    for n in range(2):
        name = f"orders-keys-{n}-{suffix}"
        deploy(
            guarded,
            name,
            "import os\ndef handler(e, c):\n    return os.environ['AWS_ACCESS_KEY_ID']\n",
            ORDERS_ROLE,
        )
        lam = guarded.client("lambda", ALICE.access_key, ALICE.secret_key)
        keys.add(json.loads(lam.invoke(FunctionName=name)["Payload"].read()))
    assert len(keys) == 2 and all(k.startswith("ASIA") for k in keys)


CONSOLE_PROBE = """
import os, urllib.error, urllib.parse, urllib.request

def post(url, fields):
    data = urllib.parse.urlencode(fields).encode()
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
            return [r.status, r.headers.get("set-cookie") or "", r.geturl()]
    except urllib.error.HTTPError as exc:
        return [exc.code, exc.headers.get("set-cookie") or "", exc.geturl()]

def handler(event, context):
    console = os.environ["AWS_ENDPOINT_URL_LAMBDA"].rstrip("/") + "/console"
    own = "/functions/" + context.function_name + "/configuration"
    keys = {"access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
            "secret_access_key": os.environ["AWS_SECRET_ACCESS_KEY"]}
    return {
        "sign_in": post(console + "/sign-in", keys),
        "change_unsigned": post(console + own,
                                {"memory_size": "512", "timeout": "3"}),
    }
"""


def test_a_functions_own_credentials_do_not_open_the_console(guarded: Server) -> None:
    """The console signs in users of the credentials file only: a function's temporary keys
    (and no keys at all) get no session, and no change through it."""
    name = f"orders-console-probe-{uuid.uuid4().hex[:6]}"
    deploy(guarded, name, CONSOLE_PROBE, ORDERS_ROLE)
    out = invoke(guarded, name, {})
    assert out["sign_in"][0] == 401 and "lambkin_console" not in out["sign_in"][1], out
    status, cookie, landed = out["change_unsigned"]
    assert (status, landed.rsplit("/console", 1)[-1]) == (200, "/sign-in"), out  # sent to sign in
    assert "lambkin_console" not in cookie
    admin = guarded.client("lambda", ALICE.access_key, ALICE.secret_key)
    assert admin.get_function_configuration(FunctionName=name)["MemorySize"] == 128
