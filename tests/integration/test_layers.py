"""Layers through boto3 (issue 15, part 4): PublishLayerVersion, GetLayerVersion(ByArn),
ListLayers, ListLayerVersions, DeleteLayerVersion, the layer version policy, and a function's
`Layers`, with AWS's answers as recorded in LocalStack's
tests/aws/services/lambda_/test_lambda_api.snapshot.json (TestLambdaLayer::*; the test named in
each comment). On the docker driver (what runs in /opt is test_layers_in_runtimes.py's)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.aws_errors import refusal
from tests.support.server import Server, start_server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::000000000000:role/lambda-role"
REGION, ACCOUNT = "us-east-1", "000000000000"
PREFIX = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:"
LAYER_ZIP = make_zip({"python/greeting.py": "WORD = 'hi'\n"})
FUNCTION_ZIP = make_zip({"app.py": "def handler(event, context):\n    return 1\n"})
VERSION_KEYS = {
    "Content", "LayerArn", "LayerVersionArn", "Description", "CreatedDate", "Version",
    "CompatibleRuntimes", "CompatibleArchitectures",
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("layers"))
    yield srv
    assert srv.stop() == 0, srv.log()


def new_name(prefix: str = "layer") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def publish(lam: Any, name: str, **extra: Any) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"CompatibleRuntimes": ["python3.12"]}
    kwargs["CompatibleArchitectures"] = ["x86_64"]
    kwargs.update(extra)
    answer: dict[str, Any] = lam.publish_layer_version(
        LayerName=name, Content={"ZipFile": LAYER_ZIP}, **kwargs
    )
    return answer


def test_layer_lifecycle(server: Server) -> None:
    """test_layer_lifecycle: publish twice, attach, get, list newest first, delete both; the
    function keeps its layer; numbers are never reused."""
    lam = server.client()
    name = new_name()
    first = publish(lam, name, Description="d", LicenseInfo="MIT")
    assert first["ResponseMetadata"]["HTTPStatusCode"] == 201
    assert set(first) - {"ResponseMetadata"} == VERSION_KEYS | {"LicenseInfo"}
    assert (first["LayerArn"], first["LayerVersionArn"], first["Version"]) == (
        f"{PREFIX}{name}", f"{PREFIX}{name}:1", 1,
    )  # fmt: skip
    digest = base64.b64encode(hashlib.sha256(LAYER_ZIP).digest()).decode()
    content = first["Content"]
    assert (content["CodeSha256"], content["CodeSize"]) == (digest, len(LAYER_ZIP))
    with urllib.request.urlopen(content["Location"], timeout=10) as response:
        assert response.read() == LAYER_ZIP
    second = publish(lam, name, Description="d", LicenseInfo="MIT")
    assert second["Version"] == 2

    function = new_name("fn")
    lam.create_function(
        FunctionName=function, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": FUNCTION_ZIP},
    )  # fmt: skip
    assert "Layers" not in lam.get_function_configuration(FunctionName=function)
    updated = lam.update_function_configuration(
        FunctionName=function, Layers=[first["LayerVersionArn"]]
    )
    assert updated["Layers"] == [{"Arn": first["LayerVersionArn"], "CodeSize": len(LAYER_ZIP)}]
    assert updated["LastUpdateStatus"] == "InProgress"

    got = lam.get_layer_version(LayerName=name, VersionNumber=1)
    assert {k: got[k] for k in VERSION_KEYS} == {k: first[k] for k in VERSION_KEYS}
    by_arn = lam.get_layer_version_by_arn(Arn=first["LayerVersionArn"])
    assert by_arn["LayerVersionArn"] == first["LayerVersionArn"]
    by_layer_arn = lam.get_layer_version(LayerName=f"{PREFIX}{name}", VersionNumber=2)
    assert by_layer_arn["Version"] == 2
    listed = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in listed] == [2, 1]
    assert set(listed[0]) == {
        "LayerVersionArn", "Version", "Description", "CreatedDate", "CompatibleRuntimes",
        "LicenseInfo", "CompatibleArchitectures",
    }  # fmt: skip
    layers = {item["LayerName"]: item for item in lam.list_layers()["Layers"]}
    assert layers[name]["LayerArn"] == f"{PREFIX}{name}"
    assert layers[name]["LatestMatchingVersion"]["Version"] == 2

    lam.delete_layer_version(LayerName=name, VersionNumber=1)
    # The function still holds it (AWS keeps a deleted version for the functions using it).
    config = lam.get_function_configuration(FunctionName=function)
    assert config["Layers"] == [{"Arn": first["LayerVersionArn"], "CodeSize": len(LAYER_ZIP)}]
    with urllib.request.urlopen(content["Location"], timeout=10) as response:
        assert response.read() == LAYER_ZIP
    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    assert lam.list_layer_versions(LayerName=name)["LayerVersions"] == []
    assert name not in {item["LayerName"] for item in lam.list_layers()["Layers"]}
    assert publish(lam, name)["Version"] == 3


def test_layer_exceptions(server: Server) -> None:
    """test_layer_exceptions."""
    lam = server.client()
    name = new_name()
    published = publish(lam, name)
    assert refusal(lam.list_layers, CompatibleArchitecture="archdoesnotexist") == (
        400, "ValidationException",
        "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' "
        "failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]",
    )  # fmt: skip
    status, code, message = refusal(lam.list_layers, CompatibleRuntime="runtimedoesnotexist")
    assert (status, code) == (400, "ValidationException")
    assert message.startswith(
        "1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' failed "
        "to satisfy constraint: Member must satisfy enum value set: [ruby3.5, ruby2.6, "
    ), message
    assert lam.list_layer_versions(LayerName=f"{name}-doesnotexist")["LayerVersions"] == []
    not_found = (404, "ResourceNotFoundException", "The resource you requested does not exist.")
    below_one = (400, "InvalidParameterValueException", "Layer Version Cannot be less than 1")
    get = lam.get_layer_version
    assert refusal(get, LayerName=f"{name}-doesnotexist", VersionNumber=1) == not_found
    assert refusal(get, LayerName=name, VersionNumber=-1) == below_one
    assert refusal(get, LayerName=name, VersionNumber=0) == below_one
    assert refusal(get, LayerName=name, VersionNumber=2) == not_found
    status, code, message = refusal(lam.get_layer_version_by_arn, Arn=published["LayerArn"])
    assert (status, code) == (400, "ValidationException")
    assert message.startswith(
        f"1 validation error detected: Value '{published['LayerArn']}' at 'arn' failed to "
        "satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws"
    ), message
    version_2 = published["LayerVersionArn"][:-1] + "2"
    assert refusal(lam.get_layer_version_by_arn, Arn=version_2) == not_found
    # Deleting what does not exist succeeds, as on AWS.
    for layer, number in ((f"{name}-doesnotexist", 1), (name, 2), (name, 1), (name, 1)):
        answer = lam.delete_layer_version(LayerName=layer, VersionNumber=number)
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert refusal(lam.delete_layer_version, LayerName=name, VersionNumber=-1) == below_one

    empty = lam.publish_layer_version(LayerName=new_name(), Content={"ZipFile": LAYER_ZIP})
    assert "CompatibleRuntimes" not in empty and "LicenseInfo" not in empty
    refused = refusal(
        lam.publish_layer_version, LayerName=name, Content={"ZipFile": LAYER_ZIP},
        CompatibleRuntimes=["invalidruntime", "invalidruntime2", "nodejs20.x"],
        CompatibleArchitectures=["invalidarch", "x86_64"],
    )  # fmt: skip
    assert refused == (
        400, "ValidationException",
        "2 validation errors detected: Value '[invalidruntime, invalidruntime2, nodejs20.x]' at "
        "'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: "
        "[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, "
        "nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, "
        "python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, "
        "nodejs18.x, provided.al2, java8.al2]; Value '[invalidarch, x86_64]' at "
        "'compatibleArchitectures' failed to satisfy constraint: Member must satisfy "
        "constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be "
        "null]",
    )  # fmt: skip
    assert refusal(
        lam.publish_layer_version, LayerName=new_name(), Content={"ZipFile": b"not a zip"}
    )[:2] == (400, "InvalidParameterValueException")


def test_layer_policy_lifecycle_and_exceptions(server: Server) -> None:
    """test_layer_policy_lifecycle and test_layer_policy_exceptions."""
    lam = server.client()
    name = new_name()
    arn = publish(lam, name)["LayerVersionArn"]
    assert refusal(lam.get_layer_version_policy, LayerName=name, VersionNumber=1) == (
        404, "ResourceNotFoundException", "No policy is associated with the given resource.",
    )  # fmt: skip
    statement = {"StatementId": "s1", "Action": "lambda:GetLayerVersion", "Principal": "*"}
    added = lam.add_layer_version_permission(LayerName=name, VersionNumber=1, **statement)
    assert added["ResponseMetadata"]["HTTPStatusCode"] == 201
    s1 = {
        "Sid": "s1", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion",
        "Resource": arn,
    }  # fmt: skip
    assert json.loads(added["Statement"]) == s1
    policy = lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert json.loads(policy["Policy"]) == {
        "Version": "2012-10-17",
        "Id": "default",
        "Statement": [s1],
    }
    assert policy["RevisionId"] == added["RevisionId"]

    add = lam.add_layer_version_permission
    assert refusal(add, LayerName=name, VersionNumber=1, **{**statement, "Action": "*"}) == (
        400, "ValidationException",
        "1 validation error detected: Value '*' at 'action' failed to satisfy constraint: Member "
        "must satisfy regular expression pattern: lambda:GetLayerVersion",
    )  # fmt: skip
    assert refusal(add, LayerName=name, VersionNumber=1, **statement) == (
        409, "ResourceConflictException",
        "The statement id (s1) provided already exists. Please provide a new statement id, or "
        "remove the existing statement.",
    )  # fmt: skip
    stale = (
        412, "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetLayerPolicy "
        "API to retrieve the latest Revision Id",
    )  # fmt: skip
    s2 = {**statement, "StatementId": "s2"}
    assert refusal(add, LayerName=name, VersionNumber=1, RevisionId="wrong", **s2) == stale
    missing_layer = f"Layer version {PREFIX}{name}-doesnotexist:1 does not exist."
    missing_version = f"Layer version {PREFIX}{name}:2 does not exist."
    for layer, number, message in (
        (f"{name}-doesnotexist", 1, missing_layer),
        (name, 2, missing_version),
    ):
        expected = (404, "ResourceNotFoundException", message)
        assert refusal(add, LayerName=layer, VersionNumber=number, **s2) == expected
        assert (
            refusal(lam.get_layer_version_policy, LayerName=layer, VersionNumber=number) == expected
        )
        assert (
            refusal(
                lam.remove_layer_version_permission,
                LayerName=layer,
                VersionNumber=number,
                StatementId="s1",
            )
            == expected
        )
    assert refusal(
        lam.remove_layer_version_permission, LayerName=name, VersionNumber=1,
        StatementId="doesnotexist",
    ) == (
        404, "ResourceNotFoundException", "Statement doesnotexist is not found in resource policy.",
    )  # fmt: skip
    assert refusal(
        lam.remove_layer_version_permission, LayerName=name, VersionNumber=1, StatementId="s1",
        RevisionId="wrong",
    ) == stale  # fmt: skip

    second = add(LayerName=name, VersionNumber=1, RevisionId=added["RevisionId"], **s2)
    both = json.loads(lam.get_layer_version_policy(LayerName=name, VersionNumber=1)["Policy"])
    assert [s["Sid"] for s in both["Statement"]] == ["s1", "s2"]
    lam.remove_layer_version_permission(
        LayerName=name, VersionNumber=1, StatementId="s2", RevisionId=second["RevisionId"]
    )
    after = lam.get_layer_version_policy(LayerName=name, VersionNumber=1)
    assert [s["Sid"] for s in json.loads(after["Policy"])["Statement"]] == ["s1"]
    assert after["RevisionId"] not in (added["RevisionId"], second["RevisionId"])


def test_layer_function_exceptions(server: Server) -> None:
    """test_layer_function_exceptions and test_layer_function_quota_exception; nothing stored
    is changed by a refused update."""
    lam = server.client()
    name = new_name()
    arns = [publish(lam, name, CompatibleRuntimes=[])["LayerVersionArn"] for _ in range(3)]
    function = new_name("fn")
    lam.create_function(
        FunctionName=function, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": FUNCTION_ZIP},
    )  # fmt: skip
    before = lam.get_function_configuration(FunctionName=function)["RevisionId"]

    def refused(layers: list[str]) -> tuple[int, str, str]:
        return refusal(lam.update_function_configuration, FunctionName=function, Layers=layers)

    same_layer = (
        "Two different versions of the same layer are not allowed to be referenced in the same "
        "function. {} and {} are versions of the same layer."
    )
    assert refused(arns[:2]) == (
        400,
        "InvalidParameterValueException",
        same_layer.format(*arns[:2]),
    )
    assert refused(arns) == (400, "InvalidParameterValueException", same_layer.format(*arns[:2]))
    assert refused([arns[0], arns[0]]) == (
        400, "InvalidParameterValueException", same_layer.format(arns[0], arns[0]),
    )  # fmt: skip
    missing = f"{PREFIX}doesnotexist:1"
    assert refused([missing]) == (
        400, "InvalidParameterValueException", f"Layer version {missing} does not exist.",
    )  # fmt: skip
    assert refused([f"{PREFIX}{name}:9"]) == (
        400, "InvalidParameterValueException", f"Layer version {PREFIX}{name}:9 does not exist.",
    )  # fmt: skip
    status, code, message = refused([f"{PREFIX}{name}"])
    assert (status, code) == (400, "ValidationException")
    assert message.startswith(
        f"1 validation error detected: Value '[{PREFIX}{name}]' at 'layers' failed to satisfy "
        "constraint: Member must satisfy constraint: [Member must have length less than or "
        "equal to 2048, "
    ), message
    other_region = arns[0].replace(REGION, "eu-west-1")
    assert refused([other_region]) == (
        400, "InvalidParameterValueException",
        f"Layers are not in the same region as the function. Layers are expected to be in region "
        f"{REGION}.",
    )  # fmt: skip
    assert lam.get_function_configuration(FunctionName=function)["RevisionId"] == before

    six = [publish(lam, new_name())["LayerVersionArn"] for _ in range(6)]
    assert refusal(
        lam.create_function, FunctionName=new_name("fn"), Runtime="python3.11", Role=ROLE,
        Handler="app.handler", Code={"ZipFile": FUNCTION_ZIP}, Layers=six,
    ) == (
        400, "InvalidParameterValueException", "Cannot reference more than 5 layers.",
    )  # fmt: skip
    created = lam.create_function(
        FunctionName=new_name("fn"), Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": FUNCTION_ZIP}, Layers=six[:5], Publish=True,
    )  # fmt: skip
    assert [layer["Arn"] for layer in created["Layers"]] == six[:5]  # in order
    # An image function takes none (AWS's message for Runtime, Handler and Layers on an image).
    assert refusal(
        lam.create_function, FunctionName=new_name("fn"), Role=ROLE, PackageType="Image",
        Code={"ImageUri": "lambkin/none:latest"}, Layers=six[:1],
    )[:2] == (400, "InvalidParameterValueException")  # fmt: skip
    # Detaching: an empty list.
    lam.update_function_configuration(FunctionName=function, Layers=[arns[0]])
    assert "Layers" not in lam.update_function_configuration(FunctionName=function, Layers=[])


def test_layers_that_cannot_be_combined_are_refused(server: Server) -> None:
    """A link in one layer and a path in another that together lead out of /opt, and Lambda
    extensions (which nothing here runs): refused when the function names them."""
    lam = server.client()

    def published(files: dict[str, str | bytes], links: dict[str, str]) -> str:
        zipped = make_zip(files, links=links)
        arn: str = lam.publish_layer_version(LayerName=new_name(), Content={"ZipFile": zipped})[
            "LayerVersionArn"
        ]
        return arn

    # Each stays inside itself: `x/y -> ..` is /opt; `z -> x/y/..` is /opt/x while x/y is a
    # directory. With the first layer last, x/y becomes the link and z leads above /opt.
    up = published({"x/keep": "k"}, {"x/y": ".."})
    through = published({"x/y/f": "f"}, {"z": "x/y/.."})
    extensions = lam.publish_layer_version(
        LayerName=new_name(),
        Content={
            "ZipFile": make_zip(
                {"extensions/agent": "#!/bin/sh\n"}, executable=("extensions/agent",)
            )
        },
    )["LayerVersionArn"]
    function = new_name("fn")
    lam.create_function(
        FunctionName=function, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": FUNCTION_ZIP},
    )  # fmt: skip
    status, code, message = refusal(
        lam.update_function_configuration, FunctionName=function, Layers=[through, up]
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert message.startswith("The function's layers cannot be combined:"), message
    status, code, message = refusal(
        lam.update_function_configuration, FunctionName=function, Layers=[extensions]
    )
    assert (status, code) == (400, "InvalidParameterValueException")
    assert "/opt/extensions/agent" in message and "does not run" in message, message
    # The other order is fine: the later layer's directory replaces the earlier link.
    ordered = lam.update_function_configuration(FunctionName=function, Layers=[up, through])
    assert [layer["Arn"] for layer in ordered["Layers"]] == [up, through]


def test_code_and_layers_together_within_lambdas_unzipped_limit(server: Server) -> None:
    """262,144,000 bytes unzipped for code and layers together (each alone is within it);
    zeros compress, so the zips stay small."""
    lam = server.client()
    mb = 1024 * 1024
    big = [
        lam.publish_layer_version(
            LayerName=new_name(), Content={"ZipFile": make_zip({f"blob{i}": bytes(100 * mb)})}
        )
        for i in range(2)
    ]
    code = make_zip({"app.py": "def handler(e, c):\n    return 1\n", "pad": bytes(70 * mb)})
    name = new_name("fn")
    status, error, message = refusal(
        lam.create_function, FunctionName=name, Runtime="python3.11", Role=ROLE,
        Handler="app.handler", Code={"ZipFile": code},
        Layers=[b["LayerVersionArn"] for b in big],
    )  # fmt: skip
    total = 270 * mb + len("def handler(e, c):\n    return 1\n")
    assert (status, error, message) == (
        400, "InvalidParameterValueException",
        "Function code combined with layers exceeds the maximum allowed size of 262144000 "
        f"bytes. The actual size is {total} bytes.",
    )  # fmt: skip
    assert refusal(lam.get_function, FunctionName=name)[1] == "ResourceNotFoundException"
    # One of them fits.
    created = lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": code}, Layers=[big[0]["LayerVersionArn"]],
    )  # fmt: skip
    assert len(created["Layers"]) == 1


def test_a_deleted_layer_version_lives_on_in_its_functions_across_a_restart(
    tmp_path: Path,
) -> None:
    """Start-up removes stored code nothing holds: a deleted layer version's content stays
    while a function holds it, and goes with the last one."""
    data = tmp_path / "data"
    srv = start_server("docker", data)
    try:
        lam = srv.client()
        zipped = make_zip({"python/greeting.py": "WORD = 'kept'\n"})
        layer = lam.publish_layer_version(LayerName=new_name(), Content={"ZipFile": zipped})
        app = "import greeting\ndef handler(e, c):\n    return greeting.WORD\n"
        name = new_name("fn")
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": make_zip({"app.py": app})}, Layers=[layer["LayerVersionArn"]],
        )  # fmt: skip
        lam.delete_layer_version(LayerName=layer["LayerArn"], VersionNumber=1)
    finally:
        assert srv.stop() == 0, srv.log()
    zip_name = f"{hashlib.sha256(zipped).hexdigest()}.zip"
    stored = data / "code" / "zips" / zip_name
    shutil.rmtree(data / "code" / "opt")  # a lost /opt is rebuilt from the stored layers
    srv = start_server("docker", data)
    try:
        lam = srv.client()
        assert stored.is_file()
        assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == "kept"
        lam.delete_function(FunctionName=name)
    finally:
        assert srv.stop() == 0, srv.log()
    srv = start_server("docker", data)
    try:
        assert not stored.exists()
        assert list((data / "code" / "opt").iterdir()) == []
    finally:
        assert srv.stop() == 0, srv.log()
