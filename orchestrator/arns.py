"""Function names, ARNs and qualifiers, as the Lambda API accepts them.

A function may be named by its name, `name:qualifier`, a partial ARN
(`123456789012:function:name`) or a full ARN (`arn:aws:lambda:region:acct:function:name[:q]`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import invalid_parameter

LATEST = "$LATEST"

_NAME = r"[a-zA-Z0-9\-_]{1,64}"
_QUALIFIER = r"\$LATEST|[a-zA-Z0-9\-_]{1,128}"
_FUNCTION_REF = re.compile(
    rf"^(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z]{{2}}(?:-gov)?-[a-z]+-\d):)?"
    rf"(?:(?P<account>\d{{12}}):)?"
    rf"(?:function:)?"
    rf"(?P<name>{_NAME})"
    rf"(?::(?P<qualifier>{_QUALIFIER}))?$"
)
_FUNCTION_NAME = re.compile(rf"^{_NAME}$")


@dataclass(frozen=True)
class FunctionRef:
    name: str
    qualifier: str | None = None


def parse_function_ref(value: str, qualifier: str | None = None) -> FunctionRef:
    """Parse any accepted form of a function name, merging an explicit `Qualifier`."""
    if len(value) > 170:
        raise invalid_parameter(
            f"1 validation error detected: Value '{value[:40]}...' at 'functionName' failed to satisfy "
            "constraint: Member must have length less than or equal to 170"
        )
    match = _FUNCTION_REF.match(value)
    if match is None:
        raise invalid_parameter(
            f"1 validation error detected: Value '{value}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
            "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
        )
    derived = match.group("qualifier")
    if qualifier is not None and derived is not None and qualifier != derived:
        raise invalid_parameter(
            "The derived qualifier from the function name does not match the specified qualifier."
        )
    return FunctionRef(match.group("name"), qualifier if qualifier is not None else derived)


def is_valid_function_name(name: str) -> bool:
    return _FUNCTION_NAME.match(name) is not None


def function_arn(region: str, account_id: str, name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn
