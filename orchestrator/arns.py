"""Function names, ARNs and qualifiers, as the Lambda API accepts them.

A function may be named by its name, `name:qualifier`, a partial ARN
(`123456789012:function:name`) or a full ARN (`arn:aws:lambda:region:acct:function:name[:q]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import LambdaError, LambdaErrorCode, constraint_failure, constraints_failed

LATEST = "$LATEST"
CREATE_NAME_MAX = 140  # CreateFunction's FunctionName (name or ARN); a bare name: 64
NAME_MAX = 64
QUALIFIER_MAX = 128

_REGION = r"(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso[a-z]?))?-[a-z]+-\d"


def _reference(name: str, qualifier: str) -> re.Pattern[str]:
    # Matched with fullmatch: `$` would also match before a trailing newline ("fn\n").
    return re.compile(
        rf"(?:arn:(?:aws[a-zA-Z-]*)?:lambda:)?(?:(?P<region>{_REGION}):)?"
        rf"(?:(?P<account>\d{{12}}):)?(?:function:)?(?P<name>{name})(?::(?P<qualifier>{qualifier}))?"
    )


# Every call that names a function takes these (GetFunction, Invoke, ...); CreateFunction's
# are narrower. AWS checks no length on the former (a name too long is simply not found).
_FUNCTION_REF = _reference(r"[a-zA-Z0-9\-_.]+", r"\$LATEST(?:\.PUBLISHED)?|[a-zA-Z0-9\-_]+")
_CREATE_REF = _reference(r"[a-zA-Z0-9\-_]+", r"\$LATEST|[a-zA-Z0-9\-_]+")
_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9\-_]{1,64}")
_EXPLICIT_QUALIFIER = re.compile(r"\$(?:LATEST(?:\.PUBLISHED)?)|[a-zA-Z0-9\-_$]+")

# As AWS words the patterns it checks, in its messages.
FUNCTION_REF_PATTERN = (
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
CREATE_REF_PATTERN = (
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None = None
    region: str | None = None  # the region an ARN names, if it names one


def _pattern(p: str) -> str:
    return f"Member must satisfy regular expression pattern: {p}"


def _qualifier_failures(qualifier: str | None) -> list[str]:
    if qualifier is None or qualifier == "":
        return []
    if len(qualifier) > QUALIFIER_MAX:
        return [
            constraint_failure(
                qualifier,
                "qualifier",
                f"Member must have length less than or equal to {QUALIFIER_MAX}",
            )
        ]
    if not _EXPLICIT_QUALIFIER.fullmatch(qualifier):
        return [constraint_failure(qualifier, "qualifier", _pattern(QUALIFIER_PATTERN))]
    return []


def parse_function_ref(value: str, qualifier: str | None = None) -> FunctionRef:
    """Parse any accepted form of a function name, merging an explicit `Qualifier`."""
    failures = _qualifier_failures(qualifier)
    match = _FUNCTION_REF.fullmatch(value)
    if match is None:
        failures.append(constraint_failure(value, "functionName", _pattern(FUNCTION_REF_PATTERN)))
    if failures:
        raise constraints_failed(failures)
    assert match is not None
    derived = match.group("qualifier")
    if qualifier is not None and derived is not None and qualifier != derived:
        raise LambdaError(
            LambdaErrorCode.INVALID_PARAMETER_VALUE,
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    return FunctionRef(
        match.group("name"), qualifier if qualifier is not None else derived, match.group("region")
    )


def parse_create_name(value: str) -> FunctionRef:
    """CreateFunction's FunctionName: a name, a partial or a full ARN, checked as AWS checks it."""
    failures = []
    if len(value) > CREATE_NAME_MAX:
        failures.append(
            constraint_failure(
                value,
                "functionName",
                f"Member must have length less than or equal to {CREATE_NAME_MAX}",
            )
        )
    match = _CREATE_REF.fullmatch(value)
    if match is None:
        failures.append(constraint_failure(value, "functionName", _pattern(CREATE_REF_PATTERN)))
    if failures:
        raise constraints_failed(failures)
    assert match is not None
    name = match.group("name")
    if len(name) > NAME_MAX:  # AWS answers this one with InvalidParameterValueException
        failure = constraint_failure(
            value, "functionName", f"Member must have length less than or equal to {NAME_MAX}"
        )
        raise constraints_failed([failure], LambdaErrorCode.INVALID_PARAMETER_VALUE)
    if match.group("qualifier") is not None:
        raise LambdaError(
            LambdaErrorCode.INVALID_PARAMETER_VALUE,
            f"FunctionName {value} names a version or an alias: CreateFunction takes the "
            "function's name or unqualified ARN.",
        )
    return FunctionRef(name, None, match.group("region"))


def is_valid_function_name(name: str) -> bool:
    return _FUNCTION_NAME.fullmatch(name) is not None


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def pool_key(name: str, version: str) -> str:
    """The key under which the pool keeps one version's instances: the name for $LATEST,
    `name:version` for a published version (a name holds no colon)."""
    return name if version == LATEST else f"{name}:{version}"
