"""Function names, ARNs and qualifiers, as the Lambda API accepts them.

A function may be named by its name, `name:qualifier`, a partial ARN
(`123456789012:function:name`) or a full ARN (`arn:aws:lambda:region:acct:function:name[:q]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import LambdaError, LambdaErrorCode

LATEST = "$LATEST"
FUNCTION_REF_MAX = 170

# Matched with fullmatch: `$` would also match before a trailing newline ("fn\n").
_NAME = r"[a-zA-Z0-9\-_]{1,64}"
_QUALIFIER = r"\$LATEST|[a-zA-Z0-9\-_]{1,128}"
_FUNCTION_REF = re.compile(
    rf"(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z]{{2}}(?:-gov)?-[a-z]+-\d):)?"
    rf"(?:(?P<account>\d{{12}}):)?"
    rf"(?:function:)?"
    rf"(?P<name>{_NAME})"
    rf"(?::(?P<qualifier>{_QUALIFIER}))?"
)
_FUNCTION_NAME = re.compile(_NAME)
_EXPLICIT_QUALIFIER = re.compile(r"[a-zA-Z0-9$_-]{0,128}")

# As AWS words the patterns it checks (botocore's FunctionName and Qualifier shapes).
FUNCTION_REF_PATTERN = (
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
    "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = "(|[a-zA-Z0-9$_-]+)"


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None = None


def _constraint(value: str, field: str, constraint: str) -> LambdaError:
    """A model constraint failure on a request parameter, as AWS answers it (400)."""
    return LambdaError(
        LambdaErrorCode.VALIDATION,
        f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
        f"constraint: Member must {constraint}",
    )


def parse_function_ref(value: str, qualifier: str | None = None) -> FunctionRef:
    """Parse any accepted form of a function name, merging an explicit `Qualifier`."""
    if len(value) > FUNCTION_REF_MAX:
        raise _constraint(
            f"{value[:40]}...",
            "functionName",
            f"have length less than or equal to {FUNCTION_REF_MAX}",
        )
    match = _FUNCTION_REF.fullmatch(value)
    if match is None:
        raise _constraint(
            value, "functionName", f"satisfy regular expression pattern: {FUNCTION_REF_PATTERN}"
        )
    if qualifier is not None and not _EXPLICIT_QUALIFIER.fullmatch(qualifier):
        raise _constraint(
            qualifier, "qualifier", f"satisfy regular expression pattern: {QUALIFIER_PATTERN}"
        )
    derived = match.group("qualifier")
    if qualifier is not None and derived is not None and qualifier != derived:
        raise LambdaError(
            LambdaErrorCode.INVALID_PARAMETER_VALUE,
            "The derived qualifier from the function name does not match the specified qualifier.",
        )
    return FunctionRef(match.group("name"), qualifier if qualifier is not None else derived)


def is_valid_function_name(name: str) -> bool:
    return _FUNCTION_NAME.fullmatch(name) is not None


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def pool_key(name: str, version: str) -> str:
    """The key under which the pool keeps one version's instances: the name for $LATEST,
    `name:version` for a published version (a name holds no colon)."""
    return name if version == LATEST else f"{name}:{version}"
