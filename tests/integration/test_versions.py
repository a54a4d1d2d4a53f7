"""Function versions through boto3 on the docker driver (issue 15, part 1): PublishVersion with
AWS's preconditions, ListVersionsByFunction, Publish=True, qualifiers on Get, Invoke and
Delete; each version an immutable snapshot of code and configuration, served by instances of
its own (its log stream `[<version>]`, `X-Amz-Executed-Version`), numbers never reused."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.aws_errors import refusal
from tests.support.server import Server, start_server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def code(marker: str) -> bytes:
    return make_zip(
        {
            "app.py": "import os\n"
            "def handler(event, context):\n"
            f"    print('serving {marker}')\n"
            f"    return {{'marker': '{marker}', 'version': context.function_version,\n"
            "            'env': os.environ['AWS_LAMBDA_FUNCTION_VERSION'],\n"
            "            'stream': context.log_stream_name,\n"
            "            'greeting': os.environ.get('GREETING')}\n"
        }
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("versions"))
    yield srv
    assert srv.stop() == 0, srv.log()


def invoke(lam: Any, name: str, qualifier: str | None = None) -> tuple[dict[str, Any], str]:
    kwargs = {"Qualifier": qualifier} if qualifier else {}
    answer = lam.invoke(FunctionName=name, Payload=b"{}", **kwargs)
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return body, answer["ExecutedVersion"]


def test_versions_are_snapshots_served_by_their_own_instances(server: Server) -> None:
    lam = server.client()
    name = f"ver-{uuid.uuid4().hex[:8]}"
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    created = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code("one")}, Publish=True, Environment={"Variables": {"GREETING": "hi"}},
    )  # fmt: skip
    # Publish=True answers with the version it published.
    assert (created["Version"], created["FunctionArn"]) == ("1", f"{arn}:1")
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    # Nothing changed since: publishing again returns version 1.
    assert lam.publish_version(FunctionName=name)["Version"] == "1"

    latest = lam.update_function_code(FunctionName=name, ZipFile=code("two"))
    lam.update_function_configuration(
        FunctionName=name, Environment={"Variables": {"GREETING": "hello"}}
    )
    latest = lam.get_function_configuration(FunctionName=name)
    # AWS's preconditions.
    assert refusal(lam.publish_version, FunctionName=name, CodeSha256="somenonexistentsha256") == (
        400,
        "InvalidParameterValueException",
        f"CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST "
        f"({latest['CodeSha256']}). Please try again with the CodeSHA256 in $LATEST.",
    )
    assert refusal(lam.publish_version, FunctionName=name, RevisionId="doesntexist") == (
        412,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the "
        "GetFunction/GetAlias API to retrieve the latest Revision Id",
    )
    second = lam.publish_version(
        FunctionName=name, Description="second", CodeSha256=latest["CodeSha256"],
        RevisionId=latest["RevisionId"],
    )  # fmt: skip
    assert (second["Version"], second["Description"]) == ("2", "second")
    assert second["RevisionId"] != latest["RevisionId"]

    versions = lam.list_versions_by_function(FunctionName=name)["Versions"]
    assert [v["Version"] for v in versions] == ["$LATEST", "1", "2"]
    assert [v["FunctionArn"] for v in versions] == [arn, f"{arn}:1", f"{arn}:2"]
    page = lam.list_versions_by_function(FunctionName=name, MaxItems=2)
    assert [v["Version"] for v in page["Versions"]] == ["$LATEST", "1"]
    rest = lam.list_versions_by_function(FunctionName=name, Marker=page["NextMarker"])
    assert [v["Version"] for v in rest["Versions"]] == ["2"] and "NextMarker" not in rest

    # Each version is what it was when published: code and configuration.
    one = lam.get_function(FunctionName=name, Qualifier="1")["Configuration"]
    assert one["Version"] == "1" and one["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert one["CodeSha256"] == created["CodeSha256"] != latest["CodeSha256"]
    assert lam.get_function_configuration(FunctionName=f"{name}:2")["Version"] == "2"

    # Invocations reach the version asked for, each in instances of its own.
    served = {q: invoke(lam, name, q) for q in (None, "1", "2", "$LATEST")}
    assert served[None][0]["marker"] == served["$LATEST"][0]["marker"] == "two"
    assert served[None][1] == served["$LATEST"][1] == "$LATEST"
    assert (served["1"][0]["marker"], served["1"][0]["greeting"], served["1"][1]) == (
        "one", "hi", "1",
    )  # fmt: skip
    assert (served["2"][0]["marker"], served["2"][0]["greeting"]) == ("two", "hello")
    for qualifier, (body, _) in served.items():
        version = qualifier or "$LATEST"
        assert body["version"] == body["env"] == version
        assert f"[{version}]" in body["stream"], body
    streams = {body["stream"] for body, _ in served.values()}
    assert len(streams) == 3  # $LATEST (twice, one instance), 1 and 2: never mixed
    assert {i["Version"] for i in server.instances(name)} == {"$LATEST", "1", "2"}
    # START lines name the version too.
    messages = server.log_messages(name, "Version: 1")
    assert any(m.startswith("START RequestId:") and "Version: 1" in m for m in messages)


def test_what_only_the_function_has_is_refused_on_a_version(server: Server) -> None:
    lam = server.client()
    name = f"ver-{uuid.uuid4().hex[:8]}"
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code("x")}, Publish=True,
    )  # fmt: skip
    status, error, message = refusal(lam.tag_resource, Resource=f"{arn}:1", Tags={"a": "b"})
    assert (status, error) == (400, "InvalidParameterValueException")
    assert message.startswith("Tags on function aliases and versions are not supported.")
    status, error, _ = refusal(
        lam.update_function_configuration, FunctionName=f"{name}:1", Timeout=10
    )
    assert (status, error) == (400, "InvalidParameterValueException")
    assert refusal(lam.delete_function, FunctionName=name, Qualifier="$LATEST") == (
        400,
        "InvalidParameterValueException",
        "$LATEST version cannot be deleted without deleting the function.",
    )
    assert refusal(lam.get_function, FunctionName=name, Qualifier="7") == (
        404, "ResourceNotFoundException", f"Function not found: {arn}:7",
    )  # fmt: skip


def test_deleting_versions_and_numbers_never_reused(server: Server) -> None:
    lam = server.client()
    name = f"ver-{uuid.uuid4().hex[:8]}"
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code("a")}, Publish=True,
    )  # fmt: skip
    assert invoke(lam, name, "1")[0]["marker"] == "a"
    lam.update_function_code(FunctionName=name, ZipFile=code("b"), Publish=True)
    lam.delete_function(FunctionName=name, Qualifier="2")
    assert refusal(lam.invoke, FunctionName=name, Qualifier="2") == (
        404, "ResourceNotFoundException", f"Function not found: {arn}:2",
    )  # fmt: skip
    # Version 1's code outlives $LATEST's update; the next number is 3, not 2 again.
    assert invoke(lam, name, "1")[0]["marker"] == "a"
    lam.update_function_code(FunctionName=name, ZipFile=code("c"))
    assert lam.publish_version(FunctionName=name)["Version"] == "3"
    assert [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]] == [
        "$LATEST", "1", "3",
    ]  # fmt: skip
    # Deleting the function takes every version; a new one starts again at 1.
    lam.delete_function(FunctionName=name)
    assert refusal(lam.get_function, FunctionName=name, Qualifier="1")[1] == (
        "ResourceNotFoundException"
    )
    created = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code("d")}, Publish=True,
    )  # fmt: skip
    assert created["Version"] == "1"
    assert invoke(lam, name, "1")[0]["marker"] == "d"


def test_an_event_for_a_version_runs_that_version(server: Server) -> None:
    lam = server.client()
    name = f"ver-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code("queued-one")}, Publish=True,
    )  # fmt: skip
    lam.update_function_code(FunctionName=name, ZipFile=code("queued-latest"))
    assert lam.invoke(FunctionName=name, Qualifier="1", InvocationType="Event")["StatusCode"] == 202
    messages = server.log_messages(name, "serving queued-one", timeout=30)
    assert "serving queued-one" in messages and "serving queued-latest" not in messages, messages
    logs = server.client("logs")
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert [s["logStreamName"] for s in streams if "[1]" in s["logStreamName"]], streams


def test_parameters_it_cannot_honour_are_refused_not_dropped(server: Server) -> None:
    lam = server.client()
    name = f"ver-{uuid.uuid4().hex[:8]}"
    status, error, message = refusal(
        lam.create_function, FunctionName=name, Runtime="python3.11", Role=ROLE,
        Handler="app.handler", Code={"ZipFile": code("x")},
        VpcConfig={"SubnetIds": ["subnet-0a1b2c3d"]},
    )  # fmt: skip
    assert (status, error) == (400, "InvalidParameterValueException")
    assert message.startswith("VpcConfig is not supported by this server:")
    assert refusal(lam.get_function, FunctionName=name)[1] == "ResourceNotFoundException"
    # What deployment tools send for "none" passes.
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code("x")}, VpcConfig={"SubnetIds": [], "SecurityGroupIds": []},
        DeadLetterConfig={}, Layers=[],
    )  # fmt: skip
    status, error, _ = refusal(
        lam.update_function_configuration, FunctionName=name,
        DeadLetterConfig={"TargetArn": "arn:aws:sqs:us-east-1:000000000000:dlq"},
    )  # fmt: skip
    assert (status, error) == (400, "InvalidParameterValueException")


def test_the_lifecycle_aws_reports_and_the_account_settings(server: Server) -> None:
    """As AWS's recorded answers show it: CreateFunction says Pending ("The function is being
    created."), an update InProgress; every read after, Active and Successful."""
    lam = server.client()
    name = f"ver-{uuid.uuid4().hex[:8]}"
    created = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code("x")},
    )  # fmt: skip
    assert (created["State"], created["StateReason"], created["StateReasonCode"]) == (
        "Pending", "The function is being created.", "Creating",
    )  # fmt: skip
    assert "LastUpdateStatus" not in created
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    read = lam.get_function_configuration(FunctionName=name)
    assert (read["State"], read["LastUpdateStatus"]) == ("Active", "Successful")
    assert "Tags" not in lam.get_function(FunctionName=name)  # none: AWS leaves the key out
    lam.tag_resource(Resource=created["FunctionArn"], Tags={"team": "orders"})
    assert lam.get_function(FunctionName=name)["Tags"] == {"team": "orders"}
    assert "StateReason" not in read
    updated = lam.update_function_configuration(FunctionName=name, Timeout=9)
    assert (updated["State"], updated["LastUpdateStatus"]) == ("Active", "InProgress")
    assert updated["LastUpdateStatusReasonCode"] == "Creating"
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert lam.get_function_configuration(FunctionName=name)["LastUpdateStatus"] == "Successful"

    settings = lam.get_account_settings()
    limit, usage = settings["AccountLimit"], settings["AccountUsage"]
    assert limit["ConcurrentExecutions"] == 1000
    assert limit["CodeSizeZipped"] == 52428800 and limit["CodeSizeUnzipped"] == 262144000
    assert usage["FunctionCount"] == len(lam.list_functions(MaxItems=50)["Functions"])
    assert usage["TotalCodeSize"] >= created["CodeSize"]
