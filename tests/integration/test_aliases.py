"""Aliases through boto3 on the docker driver (issue 15, part 2): Create/Get/Update/Delete/
ListAliases with AWS's answers, alias ARNs and `name:alias` wherever a qualifier goes, and
weighted routing between two versions, its split measured within a tolerance."""

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
    return make_zip({"app.py": f"def handler(event, context):\n    return '{marker}'\n"})


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("aliases"))
    yield srv
    assert srv.stop() == 0, srv.log()


def two_versions(lam: Any) -> tuple[str, str]:
    name = f"alias-{uuid.uuid4().hex[:8]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code("blue")}, Publish=True,
    )  # fmt: skip
    lam.update_function_code(FunctionName=name, ZipFile=code("green"), Publish=True)
    return name, f"arn:aws:lambda:us-east-1:000000000000:function:{name}"


def test_alias_lifecycle_with_aws_answers(server: Server) -> None:
    lam = server.client()
    name, arn = two_versions(lam)
    created = lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1", Description="d")
    assert created["AliasArn"] == f"{arn}:live"
    assert (created["Name"], created["FunctionVersion"], created["Description"]) == (
        "live",
        "1",
        "d",
    )
    assert refusal(lam.create_alias, FunctionName=name, Name="live", FunctionVersion="1") == (
        409, "ResourceConflictException", f"Alias already exists: {arn}:live",
    )  # fmt: skip
    assert refusal(lam.create_alias, FunctionName=name, Name="gone", FunctionVersion="9") == (
        404, "ResourceNotFoundException", f"Function not found: {arn}:9",
    )  # fmt: skip
    assert refusal(lam.get_alias, FunctionName=name, Name="nope") == (
        404, "ResourceNotFoundException", f"Cannot find alias arn: {arn}:nope",
    )  # fmt: skip
    assert lam.get_alias(FunctionName=name, Name="live")["RevisionId"] == created["RevisionId"]

    # Invoke by alias, by name:alias and by the alias ARN: version 1.
    for ref, qualifier in ((name, "live"), (f"{name}:live", None), (f"{arn}:live", None)):
        kwargs = {"Qualifier": qualifier} if qualifier else {}
        answer = lam.invoke(FunctionName=ref, **kwargs)
        assert (json.loads(answer["Payload"].read()), answer["ExecutedVersion"]) == ("blue", "1")
    assert lam.get_function(FunctionName=name, Qualifier="live")["Configuration"]["Version"] == "1"

    # Updates: with the RevisionId precondition, to another version.
    assert refusal(lam.update_alias, FunctionName=name, Name="live", RevisionId="stale")[:2] == (
        412, "PreconditionFailedException",
    )  # fmt: skip
    updated = lam.update_alias(FunctionName=name, Name="live", FunctionVersion="2")
    assert updated["FunctionVersion"] == "2" and updated["RevisionId"] != created["RevisionId"]
    answer = lam.invoke(FunctionName=name, Qualifier="live")
    assert (json.loads(answer["Payload"].read()), answer["ExecutedVersion"]) == ("green", "2")

    lam.create_alias(FunctionName=name, Name="old", FunctionVersion="1")
    listed = lam.list_aliases(FunctionName=name)["Aliases"]
    assert [a["Name"] for a in listed] == ["live", "old"]
    assert [
        a["Name"] for a in lam.list_aliases(FunctionName=name, FunctionVersion="1")["Aliases"]
    ] == ["old"]

    # A version an alias uses cannot be deleted; once the alias is gone, it can.
    assert refusal(lam.delete_function, FunctionName=name, Qualifier="1") == (
        409,
        "ResourceConflictException",
        "Unable to delete version because the following aliases reference it: [old]",
    )
    lam.delete_alias(FunctionName=name, Name="old")
    lam.delete_function(FunctionName=name, Qualifier="1")
    assert refusal(lam.invoke, FunctionName=name, Qualifier="old")[:2] == (
        404, "ResourceNotFoundException",
    )  # fmt: skip
    # Tags are the function's: refused on an alias ARN.
    assert refusal(lam.tag_resource, Resource=f"{arn}:live", Tags={"a": "b"})[:2] == (
        400, "InvalidParameterValueException",
    )  # fmt: skip
    # Deleting the function takes its aliases with it.
    lam.delete_function(FunctionName=name)
    assert refusal(lam.get_alias, FunctionName=name, Name="live")[1] == "ResourceNotFoundException"


def test_weighted_routing_splits_invocations_between_two_versions(server: Server) -> None:
    lam = server.client()
    name, _ = two_versions(lam)
    alias = lam.create_alias(
        FunctionName=name, Name="canary", FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": 0.3}},
    )  # fmt: skip
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.3}}
    invocations = 400
    counts = {"1": 0, "2": 0}
    for _ in range(invocations):
        answer = lam.invoke(FunctionName=name, Qualifier="canary")
        marker = json.loads(answer["Payload"].read())
        assert marker == {"1": "blue", "2": "green"}[answer["ExecutedVersion"]]
        counts[answer["ExecutedVersion"]] += 1
    # 30% of 400 is 120, with a standard deviation of about 9: 4.5 sigma either side.
    assert 80 <= counts["2"] <= 160, counts
    # Routing cleared: everything to version 1 again.
    lam.update_alias(
        FunctionName=name, Name="canary", RoutingConfig={"AdditionalVersionWeights": {}}
    )
    assert {
        lam.invoke(FunctionName=name, Qualifier="canary")["ExecutedVersion"] for _ in range(20)
    } == {"1"}
    # AWS's rules for routing: one more published version, not the primary.
    assert refusal(
        lam.update_alias, FunctionName=name, Name="canary",
        RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}},
    )[1] == "InvalidParameterValueException"  # fmt: skip


def test_event_invoke_configs_are_per_qualifier(server: Server) -> None:
    lam = server.client()
    name, arn = two_versions(lam)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="2")
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    one = lam.put_function_event_invoke_config(
        FunctionName=name, Qualifier="1", MaximumRetryAttempts=1
    )
    assert one["FunctionArn"] == f"{arn}:1" and one["MaximumRetryAttempts"] == 1
    lam.put_function_event_invoke_config(FunctionName=f"{name}:live", MaximumEventAgeInSeconds=120)
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert sorted(c["FunctionArn"] for c in listed) == sorted(
        [f"{arn}:$LATEST", f"{arn}:1", f"{arn}:live"]
    )
    assert (
        lam.get_function_event_invoke_config(FunctionName=name, Qualifier="live")[
            "MaximumEventAgeInSeconds"
        ]
        == 120
    )
    assert refusal(lam.get_function_event_invoke_config, FunctionName=name, Qualifier="2") == (
        404, "ResourceNotFoundException",
        f"The function {arn}:2 doesn't have an EventInvokeConfig",
    )  # fmt: skip
    assert refusal(
        lam.put_function_event_invoke_config, FunctionName=name, Qualifier="7",
        MaximumRetryAttempts=1,
    )[1] == "ResourceNotFoundException"  # fmt: skip
    # A deleted version or alias takes its configuration with it.
    lam.delete_alias(FunctionName=name, Name="live")
    lam.delete_function(FunctionName=name, Qualifier="1")
    listed = lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"]
    assert [c["FunctionArn"] for c in listed] == [f"{arn}:$LATEST"]
    # An event sent through an alias runs the version the alias names.
    lam.create_alias(FunctionName=name, Name="blue", FunctionVersion="2")
    assert (
        lam.invoke(FunctionName=name, Qualifier="blue", InvocationType="Event")["StatusCode"] == 202
    )
    logs = server.client("logs")

    def version_two_ran() -> bool:
        try:
            found = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")
        except logs.exceptions.ResourceNotFoundException:
            return False  # the event has not run yet: no log group so far
        return any("[2]" in s["logStreamName"] for s in found["logStreams"])

    import time

    deadline = time.monotonic() + 30
    while not version_two_ran():
        assert time.monotonic() < deadline, "the event for the alias never ran version 2"
        time.sleep(0.2)
