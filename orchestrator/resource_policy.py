"""A function's resource-based policy (pure): AddPermission's statement as AWS validates and
writes it, and the one decision Lambkin takes from it — whether a function URL with AuthType
NONE may be called by anyone (AWS requires a `lambda:InvokeFunctionUrl` grant to `*` with the
`lambda:FunctionUrlAuthType: NONE` condition; without one every request gets 403).

Other statements (a service principal, another account) are stored and returned as AWS does;
API callers' rights come from the credentials file (permissions.py), not from here.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import LambdaError, LambdaErrorCode, constraint, invalid_parameter

_STATEMENT_ID = re.compile(r"[a-zA-Z0-9\-_]{1,100}")
_ACTION = re.compile(r"lambda:[*]|lambda:[a-zA-Z]+|[*]")
_ACCOUNT = re.compile(r"\d{12}")
_IAM_ARN = re.compile(r"arn:aws[a-zA-Z-]*:iam::\d{12}:(root|user/\S+|role/\S+)")
_SERVICE = re.compile(r"[a-z0-9\-]+(\.[a-z0-9\-]+)*\.(amazonaws\.com|amazon\.com)")
_SOURCE_ARN = re.compile(
    r"arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\-])+:([a-z]{2}(-gov)?-[a-z]+-\d{1})?:(\d{12})?:(.*)"
)
_ORG = re.compile(r"o-[a-z0-9]{10,32}")
INVOKE_FUNCTION_URL = "lambda:InvokeFunctionUrl"
AUTH_CONDITION = "lambda:FunctionUrlAuthType"


def _principal(value: Any) -> str | dict[str, str]:
    if not isinstance(value, str) or not value or any(c.isspace() for c in value):
        raise invalid_parameter(
            "The provided principal was invalid. Please check the principal and try again."
        )
    if value == "*":
        return "*"
    if _ACCOUNT.fullmatch(value):
        return {"AWS": f"arn:aws:iam::{value}:root"}
    if _IAM_ARN.fullmatch(value):
        return {"AWS": value}
    if _SERVICE.fullmatch(value):
        return {"Service": value}
    raise invalid_parameter(
        "The provided principal was invalid. Please check the principal and try again."
    )


def statement(body: dict[str, Any], resource: str) -> dict[str, Any]:
    """The statement AddPermission adds, in AWS's form (Principal and Condition spelled out)."""
    sid = body.get("StatementId")
    if not isinstance(sid, str) or not _STATEMENT_ID.fullmatch(sid):
        raise constraint(
            None if sid is None else str(sid),
            "statementId",
            "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
        )
    action = body.get("Action")
    if not isinstance(action, str) or not _ACTION.fullmatch(action):
        raise constraint(
            None if action is None else str(action),
            "action",
            "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
        )
    result: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": _principal(body.get("Principal")),
        "Action": action,
        "Resource": resource,
    }
    conditions: dict[str, dict[str, str]] = {}
    source_arn = body.get("SourceArn")
    if source_arn is not None:
        if not isinstance(source_arn, str) or not _SOURCE_ARN.fullmatch(source_arn):
            raise constraint(
                str(source_arn), "sourceArn", "Member must satisfy regular expression pattern: "
                + _SOURCE_ARN.pattern,
            )  # fmt: skip
        conditions.setdefault("ArnLike", {})["AWS:SourceArn"] = source_arn
    account = body.get("SourceAccount")
    if account is not None:
        if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
            raise constraint(
                str(account),
                "sourceAccount",
                r"Member must satisfy regular expression pattern: \d{12}",
            )
        conditions.setdefault("StringEquals", {})["AWS:SourceAccount"] = account
    org = body.get("PrincipalOrgID")
    if org is not None:
        if not isinstance(org, str) or not _ORG.fullmatch(org):
            raise constraint(
                str(org),
                "principalOrgID",
                "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}",
            )
        conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = org
    token = body.get("EventSourceToken")
    if token is not None:
        conditions.setdefault("StringEquals", {})["lambda:EventSourceToken"] = str(token)
    auth = body.get("FunctionUrlAuthType")
    if auth is not None:
        if auth not in ("NONE", "AWS_IAM"):
            raise constraint(
                str(auth),
                "functionUrlAuthType",
                "Member must satisfy enum value set: [AWS_IAM, NONE]",
            )
        conditions.setdefault("StringEquals", {})[AUTH_CONDITION] = auth
    if body.get("InvokedViaFunctionUrl"):
        conditions.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    if conditions:
        result["Condition"] = conditions
    return result


def allows_public_url(statements: list[dict[str, Any]]) -> bool:
    """Whether the policy lets anyone call the function's URL of AuthType NONE."""
    for s in statements:
        if s.get("Effect") != "Allow" or s.get("Principal") not in ("*", {"AWS": "*"}):
            continue
        if s.get("Action") not in (INVOKE_FUNCTION_URL, "lambda:*", "*"):
            continue
        condition = (s.get("Condition") or {}).get("StringEquals", {})
        if condition.get(AUTH_CONDITION) == "NONE":
            return True
    return False


def revision_mismatch() -> LambdaError:
    return LambdaError(
        LambdaErrorCode.PRECONDITION_FAILED,
        "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API "
        "to retrieve the latest Revision Id",
    )
