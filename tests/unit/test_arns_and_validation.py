from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from orchestrator import validation
from orchestrator.arns import FunctionRef, function_arn, is_valid_function_name, parse_function_ref
from orchestrator.errors import LambdaError, LambdaErrorCode


@pytest.mark.parametrize(
    ("value", "qualifier", "expected"),
    [
        ("fn", None, FunctionRef("fn")),
        ("fn:$LATEST", None, FunctionRef("fn", "$LATEST")),
        ("fn:prod", None, FunctionRef("fn", "prod")),
        ("123456789012:function:fn", None, FunctionRef("fn")),
        (
            "arn:aws:lambda:us-east-1:123456789012:function:fn",
            None,
            FunctionRef("fn", None, "us-east-1"),
        ),
        (
            "arn:aws:lambda:eu-west-2:123456789012:function:fn:7",
            None,
            FunctionRef("fn", "7", "eu-west-2"),
        ),
        ("fn", "$LATEST", FunctionRef("fn", "$LATEST")),
        # AWS checks no length here: a name too long is a function not found (issue 15, part 6).
        ("x" * 65, None, FunctionRef("x" * 65)),
        ("my.fn", None, FunctionRef("my.fn")),
        ("fn:$LATEST.PUBLISHED", None, FunctionRef("fn", "$LATEST.PUBLISHED")),
    ],
)
def test_parse_function_ref(value: str, qualifier: str | None, expected: FunctionRef) -> None:
    assert parse_function_ref(value, qualifier) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "a b",
        "fn:",
        "arn:aws:lambda:nowhere:1:function:fn",
        "arn:aws:lambda::123456789012:function:fn",
        "fn:1:2",
        "fn:$LATES",
        "a/b",
        "fn\n",
        "fn:$LATEST\n",
        "fn:prod\n",
        "123456789012:function:fn\n",
        "arn:aws:lambda:us-east-1:123456789012:function:fn\n",
        "fn\r\n",
        "\nfn",
        "fn\x00",
    ],
)
def test_parse_function_ref_rejects(value: str) -> None:
    """A pattern or length failure is a ValidationException (400), as AWS answers it."""
    with pytest.raises(LambdaError) as raised:
        parse_function_ref(value)
    assert raised.value.code is LambdaErrorCode.VALIDATION
    assert raised.value.message.startswith("1 validation error detected: Value '")
    assert "at 'functionName' failed to satisfy constraint" in raised.value.message


@pytest.mark.parametrize("qualifier", ["a b", "1\n", "$LATEST\n", "x" * 129, "a:b"])
def test_explicit_qualifier_is_validated(qualifier: str) -> None:
    with pytest.raises(LambdaError) as raised:
        parse_function_ref("fn", qualifier)
    assert raised.value.code is LambdaErrorCode.VALIDATION
    assert "at 'qualifier' failed to satisfy constraint" in raised.value.message


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


def fields(**overrides: object) -> dict[str, Any]:
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
        ({"Environment": {"Variables": {"AB": "x\x00"}}}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        (
            {"Environment": {"Variables": {"K" * 10: "v" * 4090}}},
            LambdaErrorCode.INVALID_PARAMETER_VALUE,
        ),
        ({"EphemeralStorage": {"Size": 100}}, LambdaErrorCode.VALIDATION),
        ({"Architectures": ["arm64"]}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        ({"ImageConfig": {"Command": ["x"]}}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        ({"TracingConfig": {"Mode": "Sometimes"}}, LambdaErrorCode.VALIDATION),
    ],
)
def test_configuration_rejects(overrides: dict[str, Any], code: LambdaErrorCode) -> None:
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


def _env_name(name: str) -> object:
    return validation.environment({"Variables": {name: "v"}})


def _accepts(check: Callable[[Any], object], value: str) -> bool:
    """Whether a validator takes the value (LambdaError is its only way of refusing)."""
    try:
        result = check(value)
    except LambdaError:
        return False
    return result is not False


ROLE_ARN = "arn:aws:iam::123456789012:role/r"
# Every regex-checked input, valid as given; each must refuse the same value with a line break
# after it (`re.match(...$)` takes "x\n"), before it, or a NUL after it.
VALIDATORS: list[tuple[str, Callable[[Any], object], str]] = [
    ("function name", validation.function_name, "my-function_1"),
    ("function name (arns)", is_valid_function_name, "my-function_1"),
    ("function ref", parse_function_ref, "my-function_1"),
    ("function ref, qualified", parse_function_ref, "fn:$LATEST"),
    ("function ref, alias", parse_function_ref, "fn:prod"),
    ("function ref, ARN", parse_function_ref, "arn:aws:lambda:us-east-1:123456789012:function:fn"),
    ("qualifier", lambda q: parse_function_ref("fn", q), "$LATEST"),
    ("handler", validation.handler, "app.handler"),
    ("role", validation.role, ROLE_ARN),
    ("environment variable name", _env_name, "MY_VAR"),
]


@pytest.mark.parametrize(("what", "check", "valid"), VALIDATORS, ids=[v[0] for v in VALIDATORS])
@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: v + "\n",
        lambda v: v + "\r\n",
        lambda v: v + "\r",
        lambda v: "\n" + v,
        lambda v: v + "\x00",
        lambda v: v + " ",
    ],
    ids=["trailing LF", "trailing CRLF", "trailing CR", "leading LF", "trailing NUL", "space"],
)
def test_validators_match_the_whole_value(
    what: str, check: Callable[[Any], object], valid: str, mangle: Callable[[str], str]
) -> None:
    assert _accepts(check, valid), what
    assert not _accepts(check, mangle(valid)), what
