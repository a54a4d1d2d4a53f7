from __future__ import annotations

import pytest

from orchestrator import validation
from orchestrator.arns import FunctionRef, function_arn, parse_function_ref
from orchestrator.errors import LambdaError, LambdaErrorCode


@pytest.mark.parametrize(
    ("value", "qualifier", "expected"),
    [
        ("fn", None, FunctionRef("fn")),
        ("fn:$LATEST", None, FunctionRef("fn", "$LATEST")),
        ("fn:prod", None, FunctionRef("fn", "prod")),
        ("123456789012:function:fn", None, FunctionRef("fn")),
        ("arn:aws:lambda:us-east-1:123456789012:function:fn", None, FunctionRef("fn")),
        ("arn:aws:lambda:eu-west-2:123456789012:function:fn:7", None, FunctionRef("fn", "7")),
        ("fn", "$LATEST", FunctionRef("fn", "$LATEST")),
    ],
)
def test_parse_function_ref(value: str, qualifier: str | None, expected: FunctionRef) -> None:
    assert parse_function_ref(value, qualifier) == expected


@pytest.mark.parametrize(
    "value", ["", "a b", "fn:", "arn:aws:lambda:nowhere:1:function:fn", "x" * 65, "a/b"]
)
def test_parse_function_ref_rejects(value: str) -> None:
    with pytest.raises(LambdaError) as raised:
        parse_function_ref(value)
    assert raised.value.code is LambdaErrorCode.INVALID_PARAMETER_VALUE


def test_qualifier_conflict() -> None:
    with pytest.raises(LambdaError, match="does not match"):
        parse_function_ref("fn:1", "2")


def test_function_arn() -> None:
    assert (
        function_arn("us-east-1", "000000000000", "fn")
        == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    )
    assert function_arn("us-east-1", "000000000000", "fn", "$LATEST").endswith(":fn:$LATEST")


BASE = {
    "Runtime": "python3.11",
    "Handler": "app.handler",
    "Role": "arn:aws:iam::123456789012:role/r",
}


def fields(**overrides: object) -> dict:
    return validation.configuration({**BASE, **overrides}, ["python3.11"], creating=True)


def test_defaults_only_what_is_given() -> None:
    assert fields() == {"runtime": "python3.11", "handler": "app.handler", "role": BASE["Role"]}
    assert fields(MemorySize=1024, Timeout=900)["memory_size"] == 1024


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"MemorySize": 127}, LambdaErrorCode.VALIDATION),
        ({"MemorySize": "256"}, LambdaErrorCode.VALIDATION),
        ({"MemorySize": True}, LambdaErrorCode.VALIDATION),
        ({"Timeout": 901}, LambdaErrorCode.VALIDATION),
        ({"Handler": "has space.x"}, LambdaErrorCode.VALIDATION),
        ({"Handler": ""}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        ({"Runtime": "python2.7"}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        ({"Environment": {"Variables": {"_HANDLER": "x"}}}, LambdaErrorCode.VALIDATION),
        (
            {"Environment": {"Variables": {"AWS_REGION": "x"}}},
            LambdaErrorCode.INVALID_PARAMETER_VALUE,
        ),
        ({"Environment": {"Variables": {"AB": 1}}}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        (
            {"Environment": {"Variables": {"K" * 10: "v" * 4090}}},
            LambdaErrorCode.INVALID_PARAMETER_VALUE,
        ),
        ({"EphemeralStorage": {"Size": 100}}, LambdaErrorCode.VALIDATION),
        ({"Architectures": ["arm64"]}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        ({"PackageType": "Image"}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        ({"TracingConfig": {"Mode": "Sometimes"}}, LambdaErrorCode.VALIDATION),
    ],
)
def test_configuration_rejects(overrides: dict, code: LambdaErrorCode) -> None:
    with pytest.raises(LambdaError) as raised:
        fields(**overrides)
    assert raised.value.code is code


def test_unknown_runtime_names_the_available_ones() -> None:
    with pytest.raises(LambdaError) as raised:
        validation.configuration(
            {**BASE, "Runtime": "java8"}, ["provided.al2023", "python3.11"], creating=True
        )
    assert "provided.al2023, python3.11" in raised.value.message


def test_update_validates_only_given_fields() -> None:
    assert validation.configuration({"Timeout": 10}, [], creating=False) == {"timeout": 10}


def test_environment_limit_counts_bytes() -> None:
    assert validation.environment({"Variables": {"KE": "v" * 4094}}) == {"KE": "v" * 4094}
    with pytest.raises(LambdaError):
        validation.environment({"Variables": {"KE": "é" * 2048}})
