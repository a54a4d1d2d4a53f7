"""AWS Signature Version 4 on every API of a real server started with a credentials file:
boto3 and the AWS CLI with good keys work; a wrong secret, an unknown key, an unsigned request,
a signature past the clock skew and a tampered body get AWS's answers; each principal may do
what its permissions say and nothing else; Lambkin's own endpoints and CloudWatch Logs too; and
a function running on the server cannot use the API without credentials.

The process driver: what is under test is the control plane's access layer, and a function
there reaches the server's loopback address as any local program would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import REPO_ROOT, Server, free_port, start_server
from tests.support.signing import ALICE, AUDITOR, CALLER, CI, ApiUser, send, write_credentials
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::000000000000:role/orders"
HELLO = make_zip(
    {"app.py": "def handler(event, context):\n    print('hello from', event)\n    return 'hi'\n"}
)
BAD_SIGNATURE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
LOGS_TARGET = "Logs_20140328."


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("api-auth")
    credentials = write_credentials(data / "credentials.toml")
    server = start_server("process", data, args=("--credentials-file", str(credentials)))
    yield server
    assert server.stop() == 0, server.log()


def client(
    server: Server, user: ApiUser, service: str = "lambda", secret: str | None = None
) -> Any:
    return server.client(service, user.access_key, secret or user.secret_key)


def create(server: Server, user: ApiUser, name: str, code: bytes = HELLO) -> dict[str, Any]:
    lam = client(server, user)
    config: dict[str, Any] = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code}, Timeout=30,
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return config


def refused(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


def denial(user: ApiUser, action: str, resource: str) -> str:
    return (
        f"User: arn:aws:iam::000000000000:user/{user.name} is not authorized to perform: "
        f"{action} on resource: {resource}"
    )


def fn_arn(name: str) -> str:
    return f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


@pytest.fixture(scope="module")
def orders_fn(guarded: Server) -> str:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    create(guarded, ALICE, name)
    return name


# -- good keys ---------------------------------------------------------------------------------


def test_boto3_with_good_keys_creates_invokes_and_reads_logs(guarded: Server) -> None:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    assert create(guarded, CI, name)["FunctionName"] == name
    answer = client(guarded, CI).invoke(FunctionName=name, Payload=b'{"n": 1}')
    assert json.loads(answer["Payload"].read()) == "hi"
    logs = client(guarded, CI, "logs")
    deadline = time.monotonic() + 15
    messages: list[str] = []
    while time.monotonic() < deadline:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
        messages = [e["message"] for e in events]
        if any("hello from" in m for m in messages):
            break
        time.sleep(0.2)
    assert any("hello from {'n': 1}" in m for m in messages), messages
    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    assert [g["logGroupName"] for g in groups] == [f"/aws/lambda/{name}"]


def aws_cli(server: Server, user: ApiUser, *args: str, secret: str | None = None) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": user.access_key,
        "AWS_SECRET_ACCESS_KEY": secret or user.secret_key,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    return subprocess.run(
        ["aws", "--endpoint-url", server.endpoint, *args],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_aws_cli_with_good_keys_works_and_with_a_wrong_secret_is_refused(
    guarded: Server, orders_fn: str, tmp_path: Path
) -> None:
    listed = aws_cli(guarded, AUDITOR, "lambda", "list-functions")
    assert listed.returncode == 0, listed.stderr
    assert orders_fn in [f["FunctionName"] for f in json.loads(listed.stdout)["Functions"]]
    name = f"orders-{uuid.uuid4().hex[:8]}"
    (tmp_path / "code.zip").write_bytes(HELLO)
    created = aws_cli(
        guarded, CI, "lambda", "create-function", "--function-name", name,
        "--runtime", "python3.11", "--role", ROLE, "--handler", "app.handler",
        "--zip-file", f"fileb://{tmp_path / 'code.zip'}",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    waited = aws_cli(guarded, CI, "lambda", "wait", "function-active-v2", "--function-name", name)
    assert waited.returncode == 0, waited.stderr
    out = tmp_path / "out.json"
    invoked = aws_cli(
        guarded, CALLER, "lambda", "invoke", "--function-name", name,
        "--payload", '{"via": "cli"}', str(out),  # AWS CLI v1: the payload as given
    )  # fmt: skip
    assert invoked.returncode == 0, invoked.stderr
    assert json.loads(out.read_text()) == "hi"
    groups = aws_cli(guarded, AUDITOR, "logs", "describe-log-groups")
    assert groups.returncode == 0, groups.stderr
    wrong = aws_cli(guarded, AUDITOR, "lambda", "list-functions", secret="not-the-secret-000000")
    assert wrong.returncode != 0
    assert "(InvalidSignatureException)" in wrong.stderr, wrong.stderr
    denied = aws_cli(guarded, CALLER, "lambda", "delete-function", "--function-name", name)
    assert denied.returncode != 0
    assert "(AccessDeniedException)" in denied.stderr, denied.stderr


# -- AWS's answers to requests it will not accept ----------------------------------------------


def test_a_wrong_secret_is_an_invalid_signature(guarded: Server) -> None:
    response = refused(client(guarded, ALICE, secret="wrong-secret-0000000000").list_functions)
    assert response["Error"] == {"Code": "InvalidSignatureException", "Message": BAD_SIGNATURE}
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unknown_key_is_an_unrecognized_client(guarded: Server) -> None:
    stranger = ApiUser("stranger", "AKIDSTRANGER00000000", "stranger-secret-000000", ())
    response = refused(client(guarded, stranger).list_functions)
    assert response["Error"] == {
        "Code": "UnrecognizedClientException",
        "Message": "The security token included in the request is invalid.",
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    # The keys the rest of the suite uses on open servers are unknown here too.
    response = refused(guarded.client().list_functions)
    assert response["Error"]["Code"] == "UnrecognizedClientException"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/2015-03-31/functions"),
        ("POST", "/2015-03-31/functions"),
        ("POST", "/2015-03-31/functions/orders-x/invocations"),
        ("DELETE", "/2015-03-31/functions/orders-x"),
        ("GET", "/lambkin/instances"),
        ("POST", "/lambkin/dlq/orders-x/replay"),
        ("GET", "/lambkin/traces"),
        ("GET", "/lambkin/no-such-route"),
    ],
)
def test_an_unsigned_request_is_missing_its_token(guarded: Server, method: str, path: str) -> None:
    answer = send(method, guarded.endpoint + path, b"{}" if method == "POST" else b"")
    assert (answer.status, answer.error_type) == (403, "MissingAuthenticationTokenException")
    assert answer.json()["message"] == "Missing Authentication Token"


def test_healthz_stays_open(guarded: Server) -> None:
    assert send("GET", f"{guarded.endpoint}/healthz").status == 200


def test_a_signature_past_the_skew_window_has_expired(guarded: Server) -> None:
    url = f"{guarded.endpoint}/2015-03-31/functions"
    late = datetime.now(UTC) - timedelta(minutes=6)
    answer = send("GET", url, user=ALICE, at=late)
    assert (answer.status, answer.error_type) == (403, "InvalidSignatureException")
    assert answer.json()["message"].startswith(
        f"Signature expired: {late:%Y%m%dT%H%M%SZ} is now earlier than "
    )
    early = send("GET", url, user=ALICE, at=datetime.now(UTC) + timedelta(minutes=6))
    assert early.error_type == "InvalidSignatureException"
    assert early.json()["message"].startswith("Signature not yet current:")
    recent = send("GET", url, user=ALICE, at=datetime.now(UTC) - timedelta(minutes=4))
    assert recent.status == 200  # a replay within the window is as AWS allows


def test_a_tampered_body_breaks_the_signature(guarded: Server, orders_fn: str) -> None:
    url = f"{guarded.endpoint}/2015-03-31/functions/{orders_fn}/invocations"
    good = send("POST", url, b'{"amount": 10}', user=CALLER)
    assert good.status == 200, good.body
    tampered = send("POST", url, b'{"amount": 10}', user=CALLER, send_body=b'{"amount": 99}')
    assert (tampered.status, tampered.error_type) == (403, "InvalidSignatureException")
    assert tampered.json()["message"] == BAD_SIGNATURE


# -- permissions ---------------------------------------------------------------------------------


def test_an_invoke_only_principal_invokes_but_cannot_create(
    guarded: Server, orders_fn: str
) -> None:
    lam = client(guarded, CALLER)
    assert lam.invoke(FunctionName=orders_fn, Payload=b"{}")["StatusCode"] == 200
    name = f"orders-{uuid.uuid4().hex[:8]}"
    response = refused(
        lam.create_function, FunctionName=name, Runtime="python3.11", Role=ROLE,
        Handler="app.handler", Code={"ZipFile": HELLO},
    )  # fmt: skip
    assert response["Error"] == {
        "Code": "AccessDeniedException",
        "Message": denial(CALLER, "lambda:CreateFunction", fn_arn(name)),
    }
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert refused(lam.list_functions)["Error"]["Code"] == "AccessDeniedException"


def test_read_only_reads_but_cannot_delete_or_invoke(guarded: Server, orders_fn: str) -> None:
    lam = client(guarded, AUDITOR)
    assert lam.get_function(FunctionName=orders_fn)["Configuration"]["FunctionName"] == orders_fn
    assert orders_fn in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    response = refused(lam.delete_function, FunctionName=orders_fn)
    assert response["Error"] == {
        "Code": "AccessDeniedException",
        "Message": denial(AUDITOR, "lambda:DeleteFunction", fn_arn(orders_fn)),
    }
    response = refused(lam.invoke, FunctionName=orders_fn, Payload=b"{}")
    assert response["Error"]["Message"] == denial(
        AUDITOR, "lambda:InvokeFunction", fn_arn(orders_fn)
    )
    assert client(guarded, ALICE).get_function(FunctionName=orders_fn)  # still there


def test_deploy_patterns_limit_what_a_principal_deploys(guarded: Server) -> None:
    mine = f"orders-{uuid.uuid4().hex[:8]}"
    theirs = f"billing-{uuid.uuid4().hex[:8]}"
    create(guarded, CI, mine)
    create(guarded, ALICE, theirs)
    lam = client(guarded, CI)
    lam.update_function_configuration(FunctionName=mine, Timeout=10)
    lam.tag_resource(Resource=fn_arn(mine), Tags={"team": "orders"})
    for call, kwargs, action in (
        (lam.create_function, {"FunctionName": f"billing-{uuid.uuid4().hex[:6]}",
         "Runtime": "python3.11", "Role": ROLE, "Handler": "app.handler",
         "Code": {"ZipFile": HELLO}}, "lambda:CreateFunction"),
        (lam.update_function_configuration, {"FunctionName": theirs, "Timeout": 10},
         "lambda:UpdateFunctionConfiguration"),
        (lam.delete_function, {"FunctionName": fn_arn(theirs)}, "lambda:DeleteFunction"),
        (lam.put_function_concurrency, {"FunctionName": theirs,
         "ReservedConcurrentExecutions": 1}, "lambda:PutFunctionConcurrency"),
        (lam.tag_resource, {"Resource": fn_arn(theirs), "Tags": {"a": "b"}},
         "lambda:TagResource"),
        (lam.invoke, {"FunctionName": theirs}, "lambda:InvokeFunction"),
    ):  # fmt: skip
        response = refused(call, **kwargs)
        target = str(kwargs.get("FunctionName") or kwargs["Resource"])
        name = target.rsplit(":", 1)[-1]
        assert response["Error"] == {
            "Code": "AccessDeniedException",
            "Message": denial(CI, action, fn_arn(name)),
        }
    lam.delete_function(FunctionName=mine)


# -- Lambkin's own endpoints and CloudWatch Logs -------------------------------------------------


def test_lambkin_endpoints_need_signatures_and_rights(guarded: Server, orders_fn: str) -> None:
    base = guarded.endpoint
    instances = send("GET", f"{base}/lambkin/instances", user=AUDITOR)
    assert instances.status == 200 and "Instances" in instances.json()
    assert send("GET", f"{base}/lambkin/dlq/{orders_fn}", user=AUDITOR).status == 200
    assert send("GET", f"{base}/lambkin/traces", user=AUDITOR).status == 200
    replay = send("POST", f"{base}/lambkin/dlq/{orders_fn}/replay", b"{}", user=AUDITOR)
    assert (replay.status, replay.error_type) == (403, "AccessDeniedException")
    assert replay.json()["Message"] == denial(
        AUDITOR, "lambkin:ReplayDeadLetters", fn_arn(orders_fn)
    )
    assert send("POST", f"{base}/lambkin/dlq/{orders_fn}/replay", b"{}", user=CI).status == 200
    listing = send("GET", f"{base}/lambkin/instances", user=CALLER)
    assert listing.json()["Message"] == denial(CALLER, "lambkin:ListInstances", "*")
    unknown = send("GET", f"{base}/lambkin/no-such-route", user=CI)
    assert (unknown.status, unknown.error_type) == (403, "AccessDeniedException")
    assert send("GET", f"{base}/lambkin/no-such-route", user=ALICE).status == 404


def test_cloudwatch_logs_refusals_speak_json_1_1(guarded: Server, orders_fn: str) -> None:
    group = f"/aws/lambda/{orders_fn}"
    readable = client(guarded, AUDITOR, "logs")
    assert readable.describe_log_groups()["logGroups"] is not None
    response = refused(client(guarded, CALLER, "logs").filter_log_events, logGroupName=group)
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert response["Error"]["Message"] == denial(
        CALLER, "logs:FilterLogEvents",
        f"arn:aws:logs:us-east-1:000000000000:log-group:{group}",
    )  # fmt: skip
    response = refused(readable.delete_log_group, logGroupName=group)
    assert response["Error"]["Code"] == "AccessDeniedException"
    response = refused(client(guarded, CI, "logs").put_retention_policy,
                       logGroupName="/other/group", retentionInDays=1)  # fmt: skip
    assert response["Error"]["Code"] == "AccessDeniedException"
    wrong = refused(
        client(guarded, AUDITOR, "logs", secret="nope-nope-nope-nope").describe_log_groups
    )
    assert wrong["Error"] == {"Code": "InvalidSignatureException", "Message": BAD_SIGNATURE}
    stranger = ApiUser("x", "AKIDSTRANGER00000000", "stranger-secret-000000", ())
    unknown = refused(client(guarded, stranger, "logs").describe_log_groups)
    assert unknown["Error"]["Code"] == "UnrecognizedClientException"
    unsigned = send(
        "POST", f"{guarded.endpoint}/", b"{}",
        {"X-Amz-Target": f"{LOGS_TARGET}DescribeLogGroups",
         "Content-Type": "application/x-amz-json-1.1"},
    )  # fmt: skip
    assert unsigned.status == 400
    assert unsigned.json() == {
        "__type": "MissingAuthenticationTokenException",
        "message": "Missing Authentication Token",
    }
    # Signed for Lambda, sent to CloudWatch Logs: the scope names the wrong service.
    misdirected = send(
        "POST", f"{guarded.endpoint}/", b"{}",
        {"X-Amz-Target": f"{LOGS_TARGET}DescribeLogGroups",
         "Content-Type": "application/x-amz-json-1.1"}, user=AUDITOR, service="lambda",
    )  # fmt: skip
    assert misdirected.json()["__type"] == "InvalidSignatureException"


# -- the function-facing side ----------------------------------------------------------------------

PROBE = """
import json, urllib.request, urllib.error

def handler(event, context):
    answers = {}
    for method, path, body in event["calls"]:
        request = urllib.request.Request(event["endpoint"] + path, data=body.encode() or None,
                                         method=method, headers=event.get("headers", {}))
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answers[f"{method} {path}"] = [response.status, None]
        except urllib.error.HTTPError as error:
            answers[f"{method} {path}"] = [error.code, error.headers.get("x-amzn-ErrorType")]
    return answers
"""


def test_a_function_cannot_use_the_api_without_credentials(guarded: Server, orders_fn: str) -> None:
    """What a hostile function did on an open server (listed every function, read another's
    environment, planted one, deleted one), it cannot do here."""
    prober = f"orders-probe-{uuid.uuid4().hex[:6]}"
    create(guarded, ALICE, prober, make_zip({"app.py": PROBE}))
    planted = json.dumps({"FunctionName": "planted", "Runtime": "python3.11", "Role": ROLE,
                          "Handler": "app.handler", "Code": {"ZipFile": ""}})  # fmt: skip
    calls = [
        ["GET", "/2015-03-31/functions", ""],
        ["GET", f"/2015-03-31/functions/{orders_fn}/configuration", ""],
        ["POST", "/2015-03-31/functions", planted],
        ["DELETE", f"/2015-03-31/functions/{orders_fn}", ""],
        ["POST", f"/2015-03-31/functions/{orders_fn}/invocations", "{}"],
        ["GET", "/lambkin/instances", ""],
    ]
    for headers, expected in (
        ({}, "MissingAuthenticationTokenException"),
        # What the open-server suite's clients send: a signature by a key nobody has.
        ({"Authorization": "AWS4-HMAC-SHA256 Credential=test/20261202/us-east-1/lambda/"
          "aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
          "X-Amz-Date": datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")},
         "UnrecognizedClientException"),
    ):  # fmt: skip
        answer = client(guarded, ALICE).invoke(
            FunctionName=prober,
            Payload=json.dumps({"endpoint": guarded.endpoint, "calls": calls, "headers": headers}),
        )
        body = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, body
        assert body == {f"{m} {p}": [403, expected] for m, p, _ in calls}
    assert client(guarded, ALICE).get_function(FunctionName=orders_fn)
    names = [f["FunctionName"] for f in client(guarded, ALICE).list_functions()["Functions"]]
    assert "planted" not in names


@pytest.mark.docker
def test_a_function_reaching_the_api_over_the_bridge_gateway_is_refused(tmp_path: Path) -> None:
    """The way in of the issue: a server on 0.0.0.0 whose port instances may reach (the host
    firewall lets LAMBKIN_INSTANCE_HOST_PORTS through), a function calling it at its network's
    gateway. It reaches the API, and the API refuses it."""
    import docker

    port = free_port()
    credentials = write_credentials(tmp_path / "credentials.toml")
    server = start_server(
        "docker", tmp_path, port=port,
        args=("--host", "0.0.0.0", "--credentials-file", str(credentials)),
        env={"LAMBKIN_INSTANCE_HOST_PORTS": json.dumps([port])},
    )  # fmt: skip
    try:
        engine = docker.from_env()
        try:
            gateway = engine.api.inspect_network("lambkin")["IPAM"]["Config"][0]["Gateway"]
        finally:
            engine.close()
        victim = f"orders-victim-{uuid.uuid4().hex[:6]}"
        prober = f"orders-probe-{uuid.uuid4().hex[:6]}"
        create(server, ALICE, victim)
        create(server, ALICE, prober, make_zip({"app.py": PROBE}))
        calls = [
            ["GET", "/2015-03-31/functions", ""],
            ["GET", f"/2015-03-31/functions/{victim}", ""],
            ["POST", "/2015-03-31/functions", '{"FunctionName": "planted"}'],
            ["DELETE", f"/2015-03-31/functions/{victim}", ""],
        ]
        answer = client(server, ALICE).invoke(
            FunctionName=prober,
            Payload=json.dumps({"endpoint": f"http://{gateway}:{port}", "calls": calls}),
        )
        body = json.loads(answer["Payload"].read())
        assert "FunctionError" not in answer, body
        assert body == {
            f"{m} {p}": [403, "MissingAuthenticationTokenException"] for m, p, _ in calls
        }
        assert client(server, ALICE).get_function(FunctionName=victim)
    finally:
        assert server.stop() == 0, server.log()


def lambkin_cli(server: Server, user: ApiUser | None, *args: str) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    if user is not None:
        env |= {"AWS_ACCESS_KEY_ID": user.access_key, "AWS_SECRET_ACCESS_KEY": user.secret_key}
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args, "--endpoint", server.endpoint],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_the_lambkin_cli_signs_with_the_keys_the_aws_tools_find(guarded: Server) -> None:
    name = f"orders-cli-{uuid.uuid4().hex[:6]}"
    hello = str(REPO_ROOT / "examples" / "hello")
    deployed = lambkin_cli(guarded, CI, "deploy", name, hello)
    assert deployed.returncode == 0, deployed.stderr
    invoked = lambkin_cli(guarded, CALLER, "invoke", name, "--payload", '{"name": "cli"}')
    assert invoked.returncode == 0, invoked.stderr
    assert "cli" in invoked.stdout
    logs = lambkin_cli(guarded, AUDITOR, "logs", name)
    assert logs.returncode == 0, logs.stderr
    denied = lambkin_cli(guarded, CALLER, "deploy", name, hello)
    assert denied.returncode == 1
    assert "AccessDeniedException" in denied.stderr
    unsigned = lambkin_cli(guarded, None, "invoke", name)
    assert unsigned.returncode == 1
    assert "MissingAuthenticationTokenException: Missing Authentication Token" in unsigned.stderr


def test_layers_follow_the_deploy_patterns_of_their_names(guarded: Server) -> None:
    """`deploy:orders-*` publishes and deletes the `orders-*` layers and no other; reading them
    is `read`'s; only admin touches the rest."""
    layer_zip = make_zip({"python/lib.py": "X = 1\n"})
    ci, auditor = client(guarded, CI), client(guarded, AUDITOR)
    name = f"orders-libs-{uuid.uuid4().hex[:6]}"
    published = ci.publish_layer_version(LayerName=name, Content={"ZipFile": layer_zip})
    assert published["Version"] == 1
    other = f"billing-libs-{uuid.uuid4().hex[:6]}"
    error = refused(ci.publish_layer_version, LayerName=other, Content={"ZipFile": layer_zip})
    assert error["Error"]["Code"] == "AccessDeniedException"
    assert error["Error"]["Message"] == denial(
        CI, "lambda:PublishLayerVersion", f"arn:aws:lambda:us-east-1:000000000000:layer:{other}"
    )
    assert auditor.get_layer_version(LayerName=name, VersionNumber=1)["Version"] == 1
    assert name in {layer["LayerName"] for layer in auditor.list_layers()["Layers"]}
    error = refused(auditor.delete_layer_version, LayerName=name, VersionNumber=1)
    assert error["Error"]["Code"] == "AccessDeniedException"
    ci.delete_layer_version(LayerName=name, VersionNumber=1)
    assert auditor.list_layer_versions(LayerName=name)["LayerVersions"] == []
