"""AWS's exact answers to Lambda API calls, as recorded against real AWS (issue 15, part 6).

Each row is one call and the answer AWS gave it: HTTP status, error code and message, or for a
success the set of top-level keys of the response. The facts come from the snapshot files of
the LocalStack project (repository `localstack/localstack`, commit 8b9a79f0, folder
`tests/aws/services/lambda_/`), which record real AWS responses; each row names its file, the
snapshot's test key and the recorded entry. Only the recorded facts are used here.

The snapshots replace account ids, regions, ARNs and names with `<...>` markers; the rows use
these placeholders instead, substituted at run time (`substitute`):

    <region> <account>   the server's region and account id
    <fn>                 a function that exists, with version 1 and alias <alias> -> 1, no
                         event invoke config, no reserved or provisioned concurrency, no tags
    <fn2>                a second function, which rows may change (event invoke config, ...)
    <missing>            a function name that does not exist
    <new>                a fresh name, different for each row (creations)
    <alias> <role> <sha> the alias of <fn>, a valid role ARN, <fn>'s CodeSha256

Rows from `test_function_name_and_qualifier_validation` were recorded as the error code and the
list of individual constraint failures; their message is "1 validation error detected: <the
failure>", or, for several, "<n> validation errors detected: " and the failures joined by "; "
(the row lists them, in no order). Their status is the one AWS gives the code everywhere else
in the same file (ValidationException and InvalidParameterValueException 400,
ResourceNotFoundException 404).
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

API = "test_lambda_api.snapshot.json"
LAMBDA = "test_lambda.snapshot.json"
_TESTS = "tests/aws/services/lambda_/"


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


ZIP = _zip()
ARN = "arn:aws:lambda:<region>:<account>:function:"

# AWS's patterns, as its messages quote them.
NAME_PATTERN = (
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?"
)
CREATE_NAME_PATTERN = (
    "(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?"
    "(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"
)
QUALIFIER_PATTERN = "\\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+"
ROLE_PATTERN = "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"
RESOURCE_PATTERN = (
    "arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:"
    "(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
    "code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    "[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)
DESTINATION_PATTERN = (
    "$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:"
    "((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)"
)
WEIGHT_CONSTRAINT = (
    "Map value must satisfy constraint: [Member must have value less than or equal to 1.0, "
    "Member must have value greater than or equal to 0.0, Member must not be null]"
)

# The top-level keys of AWS's FunctionConfiguration in each answer that carries one.
_CONFIG = {
    "Architectures", "CodeSha256", "CodeSize", "Description", "EphemeralStorage", "FunctionArn",
    "FunctionName", "Handler", "LastModified", "LoggingConfig", "MemorySize", "PackageType",
    "RevisionId", "Role", "Runtime", "RuntimeVersionConfig", "SnapStart", "State", "Timeout",
    "TracingConfig", "Version",
}  # fmt: skip
CREATED_KEYS = frozenset(_CONFIG | {"StateReason", "StateReasonCode"})
READ_KEYS = frozenset(_CONFIG | {"LastUpdateStatus"})
UPDATED_KEYS = frozenset(
    _CONFIG
    | {"LastUpdateStatus", "LastUpdateStatusReason", "LastUpdateStatusReasonCode", "Environment"}
)
ALIAS_KEYS = frozenset({"AliasArn", "Description", "FunctionVersion", "Name", "RevisionId"})


@dataclass(frozen=True)
class Row:
    name: str
    source: str  # snapshot file: test key [recorded entry]
    call: str  # the boto3 Lambda client's method
    args: dict[str, Any]
    status: int
    code: str | None = None  # None: a success
    message: str | None = None
    errors: frozenset[str] | None = None  # several constraint failures, in no order
    keys: frozenset[str] | None = None  # a success's top-level keys
    nested_keys: dict[str, frozenset[str]] = field(default_factory=dict)


def src(test: str, entry: str, snapshot: str = API) -> str:
    module = "test_lambda_api.py" if snapshot == API else "test_lambda.py"
    return f"{snapshot}: {_TESTS}{module}::{test} [{entry}]"


def validation(value: str, at: str, constraint: str) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{at}' failed to satisfy constraint: "
        f"{constraint}"
    )


def failure(value: str, at: str, constraint: str) -> str:
    return f"Value '{value}' at '{at}' failed to satisfy constraint: {constraint}"


def pattern(p: str) -> str:
    return f"Member must satisfy regular expression pattern: {p}"


def not_found(arn_tail: str) -> str:
    return f"Function not found: {ARN}{arn_tail}"


def no_event_config(arn_tail: str) -> str:
    return f"The function {ARN}{arn_tail} doesn't have an EventInvokeConfig"


def create(name: str, **more: Any) -> dict[str, Any]:
    """CreateFunction's arguments as the recorded tests give them, for the name `name`."""
    return {
        "FunctionName": name,
        "Handler": "index.handler",
        "Code": {"ZipFile": ZIP},
        "PackageType": "Zip",
        "Role": "<role>",
        "Runtime": "python3.11",
        **more,
    }


RNF = "ResourceNotFoundException"
IPV = "InvalidParameterValueException"
VAL = "ValidationException"
DERIVED = "The derived qualifier from the function name does not match the specified qualifier."
REVISION = (
    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias "
    "API to retrieve the latest Revision Id"
)
A65 = "a" * 65
A129 = "a" * 129
A170 = "a" * 170
LONG_REGION_ARN = f"arn:aws:lambda:invalid-region:<account>:function:my-function{A170}"
LONG_ARN_AND_QUALIFIER = f"arn:aws:lambda:invalid-region:<account>:function:my-function-{A170}"
TOO_LONG_CREATE_ARN = ARN + "a" * (140 - len("arn:aws:lambda:us-east-1:000000000000:function:") + 1)

_NONEXISTING_FN = "TestLambdaFunction::test_ops_on_nonexisting_fn"
_NONEXISTING_VERSION = "TestLambdaFunction::test_ops_on_nonexisting_version"
_MISMATCH = "TestLambdaFunction::test_ops_with_arn_qualifier_mismatch"
_NAMES = "TestLambdaFunction::test_function_name_and_qualifier_validation"
_ARNS = "TestLambdaFunction::test_function_arns"
_WRONG_REGION = "TestLambdaFunction::test_get_function_wrong_region"
_CREATE_EXC = "TestLambdaFunction::test_create_lambda_exceptions"
_ROUTING = "TestLambdaAlias::test_notfound_and_invalid_routingconfigs"
_EIC = "TestLambdaEventInvokeConfig::test_lambda_eventinvokeconfig_exceptions"
_PC = "TestLambdaProvisionedConcurrency::test_provisioned_concurrency_exceptions"
_TAGS = "TestLambdaTags::test_tag_exceptions"
_TAG_LIMITS = "TestLambdaTags::test_tag_limits"
_TAG_GONE = "TestLambdaTag::test_tag_nonexisting_resource"
_RESERVED = "TestLambdaReservedConcurrency::test_function_concurrency_exceptions"


def _names(case: str, call: str) -> str:
    return src(f"{_NAMES}[{case}-{call}]", f"{call}_exception")


ROWS: list[Row] = [
    # -- functions that do not exist ------------------------------------------------------
    *(
        Row(
            f"{call}_missing_function",
            src(f"{_NONEXISTING_FN}[{call}]", "not_found_exception"),
            call,
            {"FunctionName": "<missing>"},
            404,
            RNF,
            not_found("<missing>"),
        )
        for call in (
            "get_function",
            "get_function_configuration",
            "delete_function",
            "get_function_concurrency",
        )
    ),  # fmt: skip
    Row(
        "get_function_event_invoke_config_missing_function",
        src(f"{_NONEXISTING_FN}[get_function_event_invoke_config]", "not_found_exception"),
        "get_function_event_invoke_config",
        {"FunctionName": "<missing>"},
        404,
        RNF,
        no_event_config("<missing>:$LATEST"),
    ),  # fmt: skip
    Row(
        "invoke_missing_function",
        src("TestLambdaFeatures::test_invoke_exceptions", "invoke_function_doesnotexist", LAMBDA),
        "invoke",
        {"FunctionName": "<missing>"},
        404,
        RNF,
        not_found("<missing>:$LATEST"),
    ),  # fmt: skip
    Row(
        "delete_function_missing_function_with_qualifier",
        src(
            "TestLambdaFunction::test_delete_on_nonexisting_version",
            "delete_function_response_non_existent_with_qualifier",
        ),
        "delete_function",
        {"FunctionName": "<missing>", "Qualifier": "1233"},
        404,
        RNF,
        not_found("<missing>"),
    ),  # fmt: skip
    # -- versions that do not exist -------------------------------------------------------
    *(
        Row(
            f"{call}_missing_version",
            src(f"{_NONEXISTING_VERSION}[{call}]", "version_not_found_exception"),
            call,
            {"FunctionName": "<fn>", "Qualifier": "1221"},
            404,
            RNF,
            not_found("<fn>:1221"),
        )
        for call in ("get_function", "get_function_configuration")
    ),  # fmt: skip
    Row(
        "get_function_event_invoke_config_missing_version",
        src(
            f"{_NONEXISTING_VERSION}[get_function_event_invoke_config]",
            "version_not_found_exception",
        ),
        "get_function_event_invoke_config",
        {"FunctionName": "<fn>", "Qualifier": "1221"},
        404,
        RNF,
        no_event_config("<fn>:1221"),
    ),  # fmt: skip
    # -- a qualifier in the ARN and another in Qualifier ----------------------------------
    *(
        Row(
            f"{call}_qualifier_mismatch",
            src(f"{_MISMATCH}[{call}]", "not_match_exception"),
            call,
            {"FunctionName": f"{ARN}<missing>:1", "Qualifier": "$LATEST"},
            400,
            IPV,
            DERIVED,
        )
        for call in ("get_function", "get_function_configuration", "delete_function")
    ),  # fmt: skip
    *(
        Row(
            f"{call}_qualifier_match_missing",
            src(f"{_MISMATCH}[{call}]", "match_exception"),
            call,
            {"FunctionName": f"{ARN}<missing>:$LATEST", "Qualifier": "$LATEST"},
            404,
            RNF,
            not_found("<missing>:$LATEST"),
        )
        for call in ("get_function", "get_function_configuration")
    ),  # fmt: skip
    Row(
        "delete_function_latest",
        src(f"{_MISMATCH}[delete_function]", "match_exception"),
        "delete_function",
        {"FunctionName": f"{ARN}<missing>:$LATEST", "Qualifier": "$LATEST"},
        400,
        IPV,
        "$LATEST version cannot be deleted without deleting the function.",
    ),  # fmt: skip
    # -- names, ARNs and qualifiers AWS refuses -------------------------------------------
    *(
        Row(
            f"{call}_invalid_characters",
            _names("invalid_characters_in_function_name", call),
            call,
            {"FunctionName": "my-function!"},
            400,
            VAL,
            validation("my-function!", "functionName", pattern(NAME_PATTERN)),
        )
        for call in ("get_function", "delete_function", "invoke")
    ),  # fmt: skip
    Row(
        "create_function_invalid_characters",
        _names("invalid_characters_in_function_name", "create_function"),
        "create_function",
        create("my-function!"),
        400,
        VAL,
        validation("my-function!", "functionName", pattern(CREATE_NAME_PATTERN)),
    ),  # fmt: skip
    Row(
        "get_function_single_invalid_character",
        _names("function_name_is_single_invalid", "get_function"),
        "get_function",
        {"FunctionName": "*"},
        400,
        VAL,
        validation("*", "functionName", pattern(NAME_PATTERN)),
    ),  # fmt: skip
    *(
        Row(
            f"{call}_invalid_qualifier",
            _names("invalid_characters_in_qualifier", call),
            call,
            {"FunctionName": "my-function", "Qualifier": "invalid!"},
            400,
            VAL,
            validation("invalid!", "qualifier", pattern(QUALIFIER_PATTERN)),
        )
        for call in ("get_function", "delete_function", "invoke")
    ),  # fmt: skip
    Row(
        "create_function_invalid_qualifier",
        _names("invalid_characters_in_qualifier", "create_function"),
        "create_function",
        create("my-function:invalid!"),
        400,
        VAL,
        validation("my-function:invalid!", "functionName", pattern(CREATE_NAME_PATTERN)),
    ),  # fmt: skip
    *(
        Row(
            f"{call}_qualifier_too_long",
            _names("qualifier_too_long", call),
            call,
            {"FunctionName": "my-function", "Qualifier": A129},
            400,
            VAL,
            validation(A129, "qualifier", "Member must have length less than or equal to 128"),
        )
        for call in ("get_function", "delete_function", "invoke")
    ),  # fmt: skip
    Row(
        "create_function_qualifier_too_long",
        _names("qualifier_too_long", "create_function"),
        "create_function",
        create(f"my-function:{A129}"),
        400,
        VAL,
        validation(
            f"my-function:{A129}",
            "functionName",
            "Member must have length less than or equal to 140",
        ),
    ),  # fmt: skip
    Row(
        "get_function_invalid_account_in_partial_arn",
        _names("invalid_account_id_in_partial_arn", "get_function"),
        "get_function",
        {"FunctionName": "invalid-account:function:my-function"},
        400,
        VAL,
        validation("invalid-account:function:my-function", "functionName", pattern(NAME_PATTERN)),
    ),  # fmt: skip
    Row(
        "invoke_invalid_region_in_arn",
        _names("invalid_region_in_arn", "invoke"),
        "invoke",
        {"FunctionName": "arn:aws:lambda:invalid-region:<account>:function:my-function"},
        400,
        VAL,
        validation(
            "arn:aws:lambda:invalid-region:<account>:function:my-function",
            "functionName",
            pattern(NAME_PATTERN),
        ),
    ),  # fmt: skip
    Row(
        "delete_function_non_lambda_arn",
        _names("non_lambda_arn", "delete_function"),
        "delete_function",
        {"FunctionName": "arn:aws:ec2:<region>:<account>:instance:i-1234567890abcdef0"},
        400,
        VAL,
        validation(
            "arn:aws:ec2:<region>:<account>:instance:i-1234567890abcdef0",
            "functionName",
            pattern(NAME_PATTERN),
        ),
    ),  # fmt: skip
    Row(
        "create_function_non_lambda_arn",
        _names("non_lambda_arn", "create_function"),
        "create_function",
        create("arn:aws:ec2:<region>:<account>:instance:i-1234567890abcdef0"),
        400,
        VAL,
        validation(
            "arn:aws:ec2:<region>:<account>:instance:i-1234567890abcdef0",
            "functionName",
            pattern(CREATE_NAME_PATTERN),
        ),
    ),  # fmt: skip
    *(
        Row(
            f"{call}_name_too_long",
            _names("function_name_too_long", call),
            call,
            {"FunctionName": A65},
            404,
            RNF,
            not_found(A65),
        )
        for call in ("get_function", "delete_function")
    ),  # fmt: skip
    Row(
        "invoke_name_too_long",
        _names("function_name_too_long", "invoke"),
        "invoke",
        {"FunctionName": A65},
        404,
        RNF,
        not_found(f"{A65}:$LATEST"),
    ),  # fmt: skip
    Row(
        "create_function_name_too_long",
        _names("function_name_too_long", "create_function"),
        "create_function",
        create(A65),
        400,
        IPV,
        validation(A65, "functionName", "Member must have length less than or equal to 64"),
    ),  # fmt: skip
    Row(
        "get_function_long_arn_invalid_region",
        _names("function_name_too_long_and_invalid_region", "get_function"),
        "get_function",
        {"FunctionName": LONG_REGION_ARN},
        400,
        VAL,
        validation(LONG_REGION_ARN, "functionName", pattern(NAME_PATTERN)),
    ),  # fmt: skip
    Row(
        "create_function_long_arn_invalid_region",
        _names("function_name_too_long_and_invalid_region", "create_function"),
        "create_function",
        create(LONG_REGION_ARN),
        400,
        VAL,
        errors=frozenset(
            {
                failure(
                    LONG_REGION_ARN,
                    "functionName",
                    "Member must have length less than or equal to 140",
                ),
                failure(LONG_REGION_ARN, "functionName", pattern(CREATE_NAME_PATTERN)),
            }
        ),
    ),  # fmt: skip
    Row(
        "get_function_long_arn_and_qualifier",
        _names("full_arn_and_qualifier_too_long_and_invalid_region", "get_function"),
        "get_function",
        {"FunctionName": LONG_ARN_AND_QUALIFIER, "Qualifier": A129},
        400,
        VAL,
        errors=frozenset(
            {
                failure(A129, "qualifier", "Member must have length less than or equal to 128"),
                failure(LONG_ARN_AND_QUALIFIER, "functionName", pattern(NAME_PATTERN)),
            }
        ),
    ),  # fmt: skip
    Row(
        "get_function_arn_with_two_qualifiers",
        _names("full_arn_with_multiple_qualifiers", "get_function"),
        "get_function",
        {"FunctionName": f"{ARN}my-function:1:2"},
        400,
        VAL,
        validation(f"{ARN}my-function:1:2", "functionName", pattern(NAME_PATTERN)),
    ),  # fmt: skip
    Row(
        "get_function_incomplete_arn",
        _names("incomplete_arn", "get_function"),
        "get_function",
        {"FunctionName": "arn:aws:lambda:<region>:<account>:function"},
        404,
        RNF,
        not_found("function"),
    ),  # fmt: skip
    Row(
        "invoke_incomplete_arn",
        _names("incomplete_arn", "invoke"),
        "invoke",
        {"FunctionName": "arn:aws:lambda:<region>:<account>:function"},
        404,
        RNF,
        not_found("function:$LATEST"),
    ),  # fmt: skip
    Row(
        "delete_function_partial_arn_extra_qualifier",
        _names("partial_arn_with_extra_qualifier", "delete_function"),
        "delete_function",
        {"FunctionName": "function:my-function:$LATEST:extra"},
        400,
        VAL,
        validation("function:my-function:$LATEST:extra", "functionName", pattern(NAME_PATTERN)),
    ),  # fmt: skip
    *(
        Row(
            f"{call}_latest_and_other_qualifier",
            _names("latest_version_with_additional_qualifier", call),
            call,
            {"FunctionName": f"{ARN}my-function:$LATEST", "Qualifier": "1"},
            400,
            IPV,
            DERIVED,
        )
        for call in ("get_function", "invoke")
    ),  # fmt: skip
    Row(
        "create_function_latest_and_other_qualifier",
        _names("latest_version_with_additional_qualifier", "create_function"),
        "create_function",
        create(f"{ARN}my-function:$LATEST:1"),
        400,
        VAL,
        validation(f"{ARN}my-function:$LATEST:1", "functionName", pattern(CREATE_NAME_PATTERN)),
    ),  # fmt: skip
    *(
        Row(
            f"{call}_lowercase_latest",
            _names("lowercase_latest_qualifier", call),
            call,
            {"FunctionName": f"{ARN}my-function", "Qualifier": "$latest"},
            404,
            RNF,
            not_found("my-function:$latest"),
        )
        for call in ("get_function", "invoke")
    ),  # fmt: skip
    Row(
        "delete_function_lowercase_latest",
        _names("lowercase_latest_qualifier", "delete_function"),
        "delete_function",
        {"FunctionName": f"{ARN}my-function", "Qualifier": "$latest"},
        404,
        RNF,
        not_found("my-function"),
    ),  # fmt: skip
    Row(
        "get_function_arn_without_region",
        _names("missing_region_in_arn", "get_function"),
        "get_function",
        {"FunctionName": "arn:aws:lambda::<account>:function:my-function"},
        400,
        VAL,
        validation(
            "arn:aws:lambda::<account>:function:my-function", "functionName", pattern(NAME_PATTERN)
        ),
    ),  # fmt: skip
    Row(
        "invoke_arn_without_account",
        _names("missing_account_id_in_arn", "invoke"),
        "invoke",
        {"FunctionName": "arn:aws:lambda:<region>::function:my-function"},
        400,
        VAL,
        validation(
            "arn:aws:lambda:<region>::function:my-function", "functionName", pattern(NAME_PATTERN)
        ),
    ),  # fmt: skip
    Row(
        "get_function_misspelled_latest",
        _names("misspelled_latest_in_arn", "get_function"),
        "get_function",
        {"FunctionName": f"{ARN}my-function:$LATES"},
        400,
        VAL,
        validation(f"{ARN}my-function:$LATES", "functionName", pattern(NAME_PATTERN)),
    ),  # fmt: skip
    Row(
        "create_function_misspelled_latest",
        _names("misspelled_latest_in_arn", "create_function"),
        "create_function",
        create(f"{ARN}my-function:$LATES"),
        400,
        VAL,
        validation(f"{ARN}my-function:$LATES", "functionName", pattern(CREATE_NAME_PATTERN)),
    ),  # fmt: skip
    # -- CreateFunction's name as an ARN, and other regions -------------------------------
    Row(
        "create_function_by_arn",
        src(_ARNS, "create-function-arn-response"),
        "create_function",
        create(f"{ARN}<new>"),
        201,
        keys=CREATED_KEYS,
    ),  # fmt: skip
    Row(
        "create_function_by_partial_arn",
        src(_ARNS, "create-function-partial-arn-response"),
        "create_function",
        create("<account>:function:<new>"),
        201,
        keys=CREATED_KEYS,
    ),  # fmt: skip
    Row(
        "create_function_colons_in_name",
        src(_ARNS, "invalid_function_name_exc"),
        "create_function",
        create("invalid:function:name"),
        400,
        VAL,
        validation("invalid:function:name", "functionName", pattern(CREATE_NAME_PATTERN)),
    ),  # fmt: skip
    Row(
        "create_function_arn_too_long",
        src(_ARNS, "long_function_arn_exc"),
        "create_function",
        create(TOO_LONG_CREATE_ARN),
        400,
        VAL,
        validation(
            TOO_LONG_CREATE_ARN, "functionName", "Member must have length less than or equal to 140"
        ),
    ),  # fmt: skip
    Row(
        "create_function_other_region",
        src(_ARNS, "function_arn_other_region_exc"),
        "create_function",
        create("arn:aws:lambda:ap-southeast-1:<account>:function:<new>"),
        404,
        RNF,
        "Functions from 'ap-southeast-1' are not reachable in this region ('<region>')",
    ),  # fmt: skip
    *(
        Row(
            f"{call}_other_region",
            src(f"{_WRONG_REGION}[{call}]", "wrong_region_exception"),
            call,
            {"FunctionName": "arn:aws:lambda:eu-central-1:<account>:function:<fn>"},
            404,
            RNF,
            "Functions from 'eu-central-1' are not reachable in this region ('<region>')",
        )
        for call in (
            "get_function",
            "get_function_configuration",
            "delete_function",
            "invoke",
            "get_function_concurrency",
            "get_function_event_invoke_config",
        )
    ),  # fmt: skip
    # -- CreateFunction and UpdateFunctionConfiguration parameters ------------------------
    Row(
        "create_function_invalid_role",
        src(_CREATE_EXC, "invalid_role_arn_exc"),
        "create_function",
        create("<new>", Role="r1"),
        400,
        VAL,
        validation("r1", "role", pattern(ROLE_PATTERN)),
    ),  # fmt: skip
    Row(
        "update_function_configuration_invalid_role",
        src("TestLambdaFunction::test_update_lambda_exceptions", "invalid_role_arn_exc"),
        "update_function_configuration",
        {"FunctionName": "<fn>", "Role": "r1"},
        400,
        VAL,
        validation("r1", "role", pattern(ROLE_PATTERN)),
    ),  # fmt: skip
    Row(
        "create_function_two_architectures",
        src(_CREATE_EXC, "multiple_architectures"),
        "create_function",
        create("<new>", Architectures=["x86_64", "arm64"]),
        400,
        VAL,
        validation(
            "[x86_64, arm64]", "architectures", "Member must have length less than or equal to 1"
        ),
    ),  # fmt: skip
    Row(
        "create_function_uppercase_architecture",
        src(_CREATE_EXC, "uppercase_architecture"),
        "create_function",
        create("<new>", Architectures=["X86_64"]),
        400,
        VAL,
        validation(
            "[X86_64]",
            "architectures",
            "Member must satisfy constraint: [Member must satisfy enum value set: "
            "[x86_64, arm64], Member must not be null]",
        ),
    ),  # fmt: skip
    Row(
        "create_function_invalid_zip",
        src(_CREATE_EXC, "invalid_zip_exc"),
        "create_function",
        create("<new>", Code={"ZipFile": b"this is not a zipfile, just a random string"}),
        400,
        IPV,
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    ),  # fmt: skip
    Row(
        "create_function_too_many_tags",
        src(_TAG_LIMITS, "create_function_invalid_tags"),
        "create_function",
        create("<new>", Tags={f"{k}_key": f"{k}_value" for k in range(51)}),
        400,
        IPV,
        "Number of tags exceeds resource tag limit.",
    ),  # fmt: skip
    Row(
        "update_function_code_wrong_revision",
        src(
            "TestLambdaRevisions::test_function_revisions_basic",
            "update_function_revision_exception",
        ),
        "update_function_code",
        {"FunctionName": "<fn>", "ZipFile": ZIP, "RevisionId": "wrong"},
        412,
        "PreconditionFailedException",
        REVISION,
    ),  # fmt: skip
    Row(
        "update_function_configuration_wrong_revision",
        src(
            "TestLambdaRevisions::test_function_revisions_basic",
            "update_function_configuration_revision_exception",
        ),
        "update_function_configuration",
        {"FunctionName": "<fn>", "Runtime": "python3.11", "RevisionId": "wrong"},
        412,
        "PreconditionFailedException",
        REVISION,
    ),  # fmt: skip
    # -- successful answers' keys ---------------------------------------------------------
    Row(
        "create_function_keys",
        src("TestLambdaVersions::test_version_lifecycle", "create_response"),
        "create_function",
        create("<new>"),
        201,
        keys=CREATED_KEYS,
    ),  # fmt: skip
    Row(
        "get_function_keys",
        src("TestLambdaVersions::test_version_lifecycle", "get_function_result"),
        "get_function",
        {"FunctionName": "<fn>"},
        200,
        keys=frozenset({"Code", "Configuration"}),
    ),  # fmt: skip
    Row(
        "get_function_configuration_keys",
        src("TestLambdaVersions::test_version_lifecycle", "first_publish_get_function_config"),
        "get_function_configuration",
        {"FunctionName": "<fn>", "Qualifier": "1"},
        200,
        keys=READ_KEYS,
    ),  # fmt: skip
    Row(
        "update_function_configuration_keys",
        src("TestLambdaFunction::test_function_lifecycle", "update_func_conf_response"),
        "update_function_configuration",
        {
            "FunctionName": "<fn2>",
            "Description": "Changed-Description",
            "Environment": {"Variables": {"ENV_A": "a"}},
        },
        200,
        keys=UPDATED_KEYS,
    ),  # fmt: skip
    Row(
        "publish_version_keys",
        src("TestLambdaVersions::test_version_lifecycle", "first_publish_response"),
        "publish_version",
        {"FunctionName": "<fn>"},
        201,
        keys=READ_KEYS,
    ),  # fmt: skip
    Row(
        "list_functions_keys",
        src("TestLambdaFunction::test_list_functions", "list_default"),
        "list_functions",
        {},
        200,
        keys=frozenset({"Functions"}),
    ),  # fmt: skip
    Row(
        "list_functions_invalid_version",
        src("TestLambdaFunction::test_list_functions", "list_functions_invalid_functionversion"),
        "list_functions",
        {"FunctionVersion": "invalid"},
        400,
        VAL,
        validation("invalid", "functionVersion", "Member must satisfy enum value set: [ALL]"),
    ),  # fmt: skip
    Row(
        "list_versions_by_function_keys",
        src("TestLambdaVersions::test_version_lifecycle", "list_versions_result"),
        "list_versions_by_function",
        {"FunctionName": "<fn>"},
        200,
        keys=frozenset({"Versions"}),
    ),  # fmt: skip
    Row(
        "get_account_settings_keys",
        src("TestLambdaAccountSettings::test_account_settings", "acc_settings_modded"),
        "get_account_settings",
        {},
        200,
        keys=frozenset({"AccountLimit", "AccountUsage"}),
        nested_keys={
            "AccountLimit": frozenset(
                {
                    "CodeSizeUnzipped",
                    "CodeSizeZipped",
                    "ConcurrentExecutions",
                    "TotalCodeSize",
                    "UnreservedConcurrentExecutions",
                }
            ),
            "AccountUsage": frozenset({"FunctionCount", "TotalCodeSize"}),
        },
    ),  # fmt: skip
    # -- PublishVersion's preconditions ---------------------------------------------------
    Row(
        "publish_version_wrong_revision",
        src(
            "TestLambdaVersions::test_publish_with_wrong_revisionid", "publish_wrong_revisionid_exc"
        ),
        "publish_version",
        {"FunctionName": "<fn>", "RevisionId": "doesntexist"},
        412,
        "PreconditionFailedException",
        REVISION,
    ),  # fmt: skip
    Row(
        "publish_version_wrong_sha256",
        src("TestLambdaVersions::test_publish_with_wrong_sha256", "publish_wrong_sha256_exc"),
        "publish_version",
        {"FunctionName": "<fn>", "CodeSha256": "somenonexistentsha256"},
        400,
        IPV,
        "CodeSHA256 (somenonexistentsha256) is different from current CodeSHA256 in $LATEST "
        "(<sha>). Please try again with the CodeSHA256 in $LATEST.",
    ),  # fmt: skip
    # -- aliases --------------------------------------------------------------------------
    Row(
        "get_function_missing_alias",
        src("TestLambdaAlias::test_alias_lifecycle", "get_function_alias_notfound_exc"),
        "get_function",
        {"FunctionName": "<fn>", "Qualifier": "aliasdoesnotexist"},
        404,
        RNF,
        not_found("<fn>:aliasdoesnotexist"),
    ),  # fmt: skip
    Row(
        "get_function_missing_alias_by_arn",
        src("TestLambdaAlias::test_alias_lifecycle", "get_function_alias_byarn_notfound_exc"),
        "get_function",
        {"FunctionName": f"{ARN}<fn>:aliasdoesnotexist"},
        404,
        RNF,
        not_found("<fn>:aliasdoesnotexist"),
    ),  # fmt: skip
    Row(
        "invoke_missing_alias",
        src("TestLambdaAliases::test_lambda_alias_moving", "invocation_exc_not_existent", LAMBDA),
        "invoke",
        {"FunctionName": "<fn>", "Qualifier": "non-existent-alias"},
        404,
        RNF,
        not_found("<fn>:non-existent-alias"),
    ),  # fmt: skip
    Row(
        "create_alias_two_weights",
        src(_ROUTING, "routing_config_exc_toomany"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "custom",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.8, "2": 0.2}},
        },
        400,
        IPV,
        "Number of items in AdditionalVersionWeights cannot be greater than 1",
    ),  # fmt: skip
    Row(
        "create_alias_weight_too_high",
        src(_ROUTING, "routing_config_exc_toohigh"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "custom",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 2}},
        },
        400,
        VAL,
        validation("{2=2.0}", "routingConfig.additionalVersionWeights", WEIGHT_CONSTRAINT),
    ),  # fmt: skip
    Row(
        "create_alias_weight_below_zero",
        src(_ROUTING, "routing_config_exc_subzero"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "custom",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": -1}},
        },
        400,
        VAL,
        validation("{2=-1.0}", "routingConfig.additionalVersionWeights", WEIGHT_CONSTRAINT),
    ),  # fmt: skip
    Row(
        "create_alias_weight_on_own_version",
        src(_ROUTING, "routing_config_exc_sameversion"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "custom",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}},
        },
        400,
        IPV,
        "Invalid function version 1. Function version 1 is already included in routing "
        "configuration.",
    ),  # fmt: skip
    Row(
        "create_alias_missing_version",
        src(_ROUTING, "target_version_doesnotexist"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "custom",
            "FunctionVersion": "10",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}},
        },
        404,
        RNF,
        not_found("<fn>:10"),
    ),  # fmt: skip
    Row(
        "create_alias_missing_weighted_version",
        src(_ROUTING, "routing_config_exc_version_doesnotexist"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "custom",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"10": 0.5}},
        },
        404,
        RNF,
        not_found("<fn>:10"),
    ),  # fmt: skip
    Row(
        "create_alias_latest_with_weights",
        src(_ROUTING, "target_version_exc_version_latest"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "custom",
            "FunctionVersion": "$LATEST",
            "RoutingConfig": {"AdditionalVersionWeights": {"1": 0.5}},
        },
        400,
        IPV,
        "$LATEST is not supported for an alias pointing to more than 1 version",
    ),  # fmt: skip
    Row(
        "create_alias_latest_weighted",
        src(_ROUTING, "routing_config_exc_version_latest"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "custom",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"$LATEST": 0.5}},
        },
        400,
        VAL,
        validation(
            "{$LATEST=0.5}",
            "routingConfig.additionalVersionWeights",
            "Map keys must satisfy constraint: [Member must have length less than or "
            "equal to 1024, Member must have length greater than or equal to 1, Member "
            "must satisfy regular expression pattern: [0-9]+]",
        ),
    ),  # fmt: skip
    Row(
        "create_alias_missing_function",
        src(_ROUTING, "routing_config_exc_fn_doesnotexist"),
        "create_alias",
        {
            "FunctionName": "<fn>-unknown",
            "Name": "custom",
            "FunctionVersion": "1",
            "RoutingConfig": {"AdditionalVersionWeights": {"2": 0.5}},
        },
        404,
        RNF,
        not_found("<fn>-unknown:1"),
    ),  # fmt: skip
    Row(
        "create_alias_duplicate",
        src(_ROUTING, "routing_config_exc_already_exist"),
        "create_alias",
        {"FunctionName": "<fn>", "Name": "<alias>", "FunctionVersion": "1"},
        409,
        "ResourceConflictException",
        f"Alias already exists: {ARN}<fn>:<alias>",
    ),  # fmt: skip
    Row(
        "get_alias_missing",
        src(_ROUTING, "alias_does_not_exist_esc"),
        "get_alias",
        {"FunctionName": "<fn>", "Name": "non-existent"},
        404,
        RNF,
        f"Cannot find alias arn: {ARN}<fn>:non-existent",
    ),  # fmt: skip
    Row(
        "update_alias_missing",
        src("TestLambdaAlias::test_non_existent_alias_update", "update_alias_response"),
        "update_alias",
        {"FunctionName": "<fn>", "Name": "non-existent"},
        404,
        RNF,
        f"Alias not found: {ARN}<fn>:non-existent",
    ),  # fmt: skip
    Row(
        "delete_alias_missing",
        src("TestLambdaAlias::test_non_existent_alias_deletion", "delete_alias_response"),
        "delete_alias",
        {"FunctionName": "<fn>", "Name": "non-existent"},
        204,
        keys=frozenset(),
    ),  # fmt: skip
    Row(
        "create_alias_keys",
        src("TestLambdaAlias::test_alias_lifecycle", "create_alias_1_2"),
        "create_alias",
        {
            "FunctionName": "<fn>",
            "Name": "<new>",
            "FunctionVersion": "1",
            "Description": "custom-alias",
        },
        201,
        keys=ALIAS_KEYS,
    ),  # fmt: skip
    Row(
        "get_alias_keys",
        src("TestLambdaAlias::test_alias_lifecycle", "get_alias_1_2"),
        "get_alias",
        {"FunctionName": "<fn>", "Name": "<alias>"},
        200,
        keys=ALIAS_KEYS,
    ),  # fmt: skip
    Row(
        "list_aliases_keys",
        src("TestLambdaAlias::test_alias_lifecycle", "list_aliases_for_fnname_after_update"),
        "list_aliases",
        {"FunctionName": "<fn>"},
        200,
        keys=frozenset({"Aliases"}),
    ),  # fmt: skip
    # -- tags -----------------------------------------------------------------------------
    Row(
        "tag_resource_invalid_arn",
        src(_TAGS, "tag_lambda_invalidarn"),
        "tag_resource",
        {"Resource": "arn:aws:something", "Tags": {"key_a": "value_a"}},
        400,
        VAL,
        validation("arn:aws:something", "resource", pattern(RESOURCE_PATTERN)),
    ),  # fmt: skip
    Row(
        "list_tags_invalid_resource_type",
        src("TestLambdaTag::test_tag_exceptions[lambda_function]", "invalid_arn_exception"),
        "list_tags",
        {"Resource": "arn:aws:lambda:<region>:<account>:foobar:<missing>"},
        400,
        VAL,
        validation(
            "arn:aws:lambda:<region>:<account>:foobar:<missing>",
            "resource",
            pattern(RESOURCE_PATTERN),
        ),
    ),  # fmt: skip
    Row(
        "tag_resource_missing_function",
        src(_TAGS, "tag_lambda_doesnotexist"),
        "tag_resource",
        {"Resource": f"{ARN}<missing>", "Tags": {"key_a": "value_a"}},
        404,
        RNF,
        not_found("<missing>"),
    ),  # fmt: skip
    Row(
        "untag_resource_missing_function",
        src(_TAG_GONE, "not_found_exception_untag"),
        "untag_resource",
        {"Resource": f"{ARN}<missing>", "TagKeys": ["A"]},
        404,
        RNF,
        not_found("<missing>"),
    ),  # fmt: skip
    Row(
        "list_tags_missing_function",
        src(_TAG_GONE, "not_found_exception_list"),
        "list_tags",
        {"Resource": f"{ARN}<missing>"},
        404,
        RNF,
        not_found("<missing>"),
    ),  # fmt: skip
    Row(
        "tag_resource_qualified_arn",
        src(_TAGS, "tag_lambda_qualifier_doesnotexist"),
        "tag_resource",
        {"Resource": f"{ARN}<fn>:v1", "Tags": {"key_a": "value_a"}},
        400,
        IPV,
        "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    ),  # fmt: skip
    Row(
        "tag_resource_latest_arn",
        src("TestLambdaTags::test_tag_versions", "tag_resource_latest_exception"),
        "tag_resource",
        {"Resource": f"{ARN}<fn>:$LATEST", "Tags": {"key_a": "value_a"}},
        400,
        IPV,
        "Tags on function aliases and versions are not supported. Please specify a function ARN.",
    ),  # fmt: skip
    Row(
        "list_tags_keys",
        src(_TAGS, "list_tag_lambda_empty"),
        "list_tags",
        {"Resource": f"{ARN}<fn>"},
        200,
        keys=frozenset({"Tags"}),
    ),  # fmt: skip
    Row(
        "untag_resource_no_such_key",
        src(_TAGS, "untag_nomatch"),
        "untag_resource",
        {"Resource": f"{ARN}<fn>", "TagKeys": ["somekey"]},
        204,
        keys=frozenset(),
    ),  # fmt: skip
    Row(
        "untag_resource_no_keys",
        src(_TAGS, "untag_empty_keys"),
        "untag_resource",
        {"Resource": f"{ARN}<fn>", "TagKeys": []},
        400,
        VAL,
        "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: "
        "Member must not be null",
    ),  # fmt: skip
    Row(
        "tag_resource_no_tags",
        src(_TAGS, "tag_empty_tags"),
        "tag_resource",
        {"Resource": f"{ARN}<fn>", "Tags": {}},
        400,
        IPV,
        "An error occurred and the request cannot be processed.",
    ),  # fmt: skip
    Row(
        "tag_resource_too_many_tags",
        src(_TAG_LIMITS, "tag_lambda_too_many_tags"),
        "tag_resource",
        {"Resource": f"{ARN}<fn>", "Tags": {f"{k}_key": f"{k}_value" for k in range(51)}},
        400,
        IPV,
        "Number of tags exceeds resource tag limit.",
    ),  # fmt: skip
    # -- event invoke configs -------------------------------------------------------------
    Row(
        "put_event_invoke_config_missing_function",
        src(_EIC, "put_functionname_name_notfound"),
        "put_function_event_invoke_config",
        {"FunctionName": "<missing>", "MaximumRetryAttempts": 1},
        404,
        RNF,
        "The function doesn't exist.",
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_missing_function_arn",
        src(_EIC, "put_functionname_arn_notfound"),
        "put_function_event_invoke_config",
        {"FunctionName": f"{ARN}<missing>", "MaximumRetryAttempts": 1},
        404,
        RNF,
        "The function doesn't exist.",
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_nothing",
        src(_EIC, "put_functionname_nootherargs"),
        "put_function_event_invoke_config",
        {"FunctionName": "<missing>"},
        400,
        IPV,
        "You must specify at least one of error handling or destination setting.",
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_missing_destination",
        src(_EIC, "put_destination_lambda_doesntexist"),
        "put_function_event_invoke_config",
        {
            "FunctionName": "<fn>",
            "DestinationConfig": {"OnSuccess": {"Destination": f"{ARN}<missing>"}},
        },
        400,
        IPV,
        f"The destination ARN {ARN}<missing> is invalid.",
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_destination_itself",
        src(_EIC, "put_destination_recursive"),
        "put_function_event_invoke_config",
        {"FunctionName": "<fn>", "DestinationConfig": {"OnSuccess": {"Destination": f"{ARN}<fn>"}}},
        400,
        IPV,
        "You can't specify the function as a destination for itself.",
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_destination_other_service",
        src(_EIC, "put_destination_invalid_service_arn"),
        "put_function_event_invoke_config",
        {
            "FunctionName": "<fn>",
            "DestinationConfig": {
                "OnSuccess": {"Destination": "arn:aws:iam:<region>:<account>:function:<fn>"}
            },
        },
        400,
        IPV,
        "The provided destination config DestinationConfig(onSuccess=OnSuccess("
        "destination=arn:aws:iam:<region>:<account>:function:<fn>), onFailure=null) is invalid.",
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_destination_pattern",
        src(_EIC, "put_destination_invalid_arn_pattern"),
        "put_function_event_invoke_config",
        {
            "FunctionName": "<fn>",
            "DestinationConfig": {
                "OnFailure": {"Destination": "arn:aws:_-/!lambda:<region>:<account>:function:<fn>"}
            },
        },
        400,
        VAL,
        validation(
            "arn:aws:_-/!lambda:<region>:<account>:function:<fn>",
            "destinationConfig.onFailure.destination",
            pattern(DESTINATION_PATTERN),
        ),
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_missing_alias",
        src(_EIC, "put_alias_doesnotexist"),
        "put_function_event_invoke_config",
        {"FunctionName": "<fn>", "Qualifier": "<alias>doesnotexist", "MaximumRetryAttempts": 1},
        404,
        RNF,
        "The function doesn't exist.",
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_qualifier_conflict",
        src(_EIC, "put_alias_qualifiedarn_qualifierconflict"),
        "put_function_event_invoke_config",
        {
            "FunctionName": f"{ARN}<fn>:<alias>",
            "Qualifier": "<alias>doesnotexist",
            "MaximumRetryAttempts": 1,
        },
        400,
        IPV,
        DERIVED,
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_version_and_latest",
        src(_EIC, "put_shorthand_qualifier_mismatch_1"),
        "put_function_event_invoke_config",
        {"FunctionName": "<fn>:1", "Qualifier": "$LATEST", "MaximumRetryAttempts": 1},
        400,
        IPV,
        DERIVED,
    ),  # fmt: skip
    Row(
        "put_event_invoke_config_keys",
        src(_EIC, "put_destination_latest"),
        "put_function_event_invoke_config",
        {"FunctionName": "<fn2>", "MaximumRetryAttempts": 1},
        200,
        keys=frozenset(
            {"DestinationConfig", "FunctionArn", "LastModified", "MaximumRetryAttempts"}
        ),
    ),  # fmt: skip
    Row(
        "delete_event_invoke_config_none",
        src(_EIC, "delete_function_not_found"),
        "delete_function_event_invoke_config",
        {"FunctionName": "<fn>"},
        404,
        RNF,
        no_event_config("<fn>:$LATEST"),
    ),  # fmt: skip
    Row(
        "delete_event_invoke_config_missing_function",
        src(_EIC, "delete_function_doesnotexist"),
        "delete_function_event_invoke_config",
        {"FunctionName": "doesnotexist"},
        404,
        RNF,
        no_event_config("doesnotexist:$LATEST"),
    ),  # fmt: skip
    Row(
        "list_event_invoke_configs_missing_function",
        src(_EIC, "list_function_doesnotexist"),
        "list_function_event_invoke_configs",
        {"FunctionName": "doesnotexist"},
        404,
        RNF,
        "The function doesn't exist.",
    ),  # fmt: skip
    Row(
        "get_event_invoke_config_missing_qualifier",
        src(_EIC, "get_qualifier_doesnotexist"),
        "get_function_event_invoke_config",
        {"FunctionName": "<fn>", "Qualifier": "doesnotexist"},
        404,
        RNF,
        no_event_config("<fn>:doesnotexist"),
    ),  # fmt: skip
    Row(
        "get_event_invoke_config_alias_without_one",
        src(_EIC, "get_eventinvokeconfig_doesnotexist"),
        "get_function_event_invoke_config",
        {"FunctionName": "<fn>", "Qualifier": "<alias>"},
        404,
        RNF,
        no_event_config("<fn>:<alias>"),
    ),  # fmt: skip
    Row(
        "update_event_invoke_config_missing_function",
        src(_EIC, "update_eventinvokeconfig_function_doesnotexist"),
        "update_function_event_invoke_config",
        {"FunctionName": "doesnotexist", "MaximumRetryAttempts": 0},
        404,
        RNF,
        "The function doesn't exist.",
    ),  # fmt: skip
    Row(
        "update_event_invoke_config_none",
        src(_EIC, "update_eventinvokeconfig_config_doesnotexist_without_qualifier"),
        "update_function_event_invoke_config",
        {"FunctionName": f"{ARN}<fn>", "MaximumRetryAttempts": 0},
        404,
        RNF,
        no_event_config("<fn>:$LATEST"),
    ),  # fmt: skip
    Row(
        "list_event_invoke_configs_keys",
        src(_EIC, "list_configs"),
        "list_function_event_invoke_configs",
        {"FunctionName": "<fn>"},
        200,
        keys=frozenset({"FunctionEventInvokeConfigs"}),
    ),  # fmt: skip
    # -- reserved concurrency -------------------------------------------------------------
    Row(
        "put_function_concurrency_missing_function",
        src(_RESERVED, "put_function_concurrency_with_function_name_doesnotexist"),
        "put_function_concurrency",
        {"FunctionName": "doesnotexist", "ReservedConcurrentExecutions": 1},
        404,
        RNF,
        not_found("doesnotexist:$LATEST"),
    ),  # fmt: skip
    Row(
        "put_function_concurrency_qualified_arn",
        src(_RESERVED, "put_function_concurrency_with_qualified_arn"),
        "put_function_concurrency",
        {"FunctionName": f"{ARN}<fn>:$LATEST", "ReservedConcurrentExecutions": 0},
        400,
        IPV,
        "This operation is permitted on Lambda functions only. Aliases and versions do not "
        "support this operation. Please specify either a function name or an unqualified "
        "function ARN.",
    ),  # fmt: skip
    Row(
        "put_function_concurrency_keys",
        src(
            "TestLambdaReservedConcurrency::test_function_concurrency",
            "put_function_concurrency_with_reserved_1",
        ),
        "put_function_concurrency",
        {"FunctionName": "<fn2>", "ReservedConcurrentExecutions": 1},
        200,
        keys=frozenset({"ReservedConcurrentExecutions"}),
    ),  # fmt: skip
    Row(
        "get_function_concurrency_unset",
        src(
            "TestLambdaReservedConcurrency::test_function_concurrency",
            "get_function_concurrency_after_delete",
        ),
        "get_function_concurrency",
        {"FunctionName": "<fn>"},
        200,
        keys=frozenset(),
    ),  # fmt: skip
    # -- provisioned concurrency ----------------------------------------------------------
    Row(
        "get_provisioned_none",
        src(_PC, "get_provisioned_config_doesnotexist"),
        "get_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "1"},
        404,
        "ProvisionedConcurrencyConfigNotFoundException",
        "No Provisioned Concurrency Config found for this function",
    ),  # fmt: skip
    Row(
        "get_provisioned_missing_function",
        src(_PC, "get_provisioned_functionname_doesnotexist"),
        "get_provisioned_concurrency_config",
        {"FunctionName": "doesnotexist", "Qualifier": "noalias"},
        404,
        RNF,
        f"Cannot find alias arn: {ARN}doesnotexist:noalias",
    ),  # fmt: skip
    Row(
        "get_provisioned_missing_alias",
        src(_PC, "get_provisioned_qualifier_doesnotexist"),
        "get_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "noalias"},
        404,
        RNF,
        f"Cannot find alias arn: {ARN}<fn>:noalias",
    ),  # fmt: skip
    Row(
        "get_provisioned_missing_version",
        src(_PC, "get_provisioned_version_doesnotexist"),
        "get_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "10"},
        404,
        RNF,
        not_found("<fn>:10"),
    ),  # fmt: skip
    Row(
        "get_provisioned_latest",
        src(_PC, "get_provisioned_latest"),
        "get_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "$LATEST"},
        400,
        IPV,
        "The function resource provided must be an alias or a published version.",
    ),  # fmt: skip
    Row(
        "list_provisioned_keys",
        src(_PC, "list_provisioned_noconfigs"),
        "list_provisioned_concurrency_configs",
        {"FunctionName": "<fn>"},
        200,
        keys=frozenset({"ProvisionedConcurrencyConfigs"}),
    ),  # fmt: skip
    Row(
        "list_provisioned_missing_function",
        src(_PC, "list_provisioned_functionname_doesnotexist"),
        "list_provisioned_concurrency_configs",
        {"FunctionName": "doesnotexist"},
        404,
        RNF,
        not_found("doesnotexist"),
    ),  # fmt: skip
    Row(
        "delete_provisioned_missing_function",
        src(_PC, "delete_provisioned_functionname_doesnotexist"),
        "delete_provisioned_concurrency_config",
        {"FunctionName": "doesnotexist", "Qualifier": "1"},
        404,
        RNF,
        not_found("doesnotexist:1"),
    ),  # fmt: skip
    Row(
        "delete_provisioned_missing_alias",
        src(_PC, "delete_provisioned_qualifier_doesnotexist"),
        "delete_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "noalias"},
        404,
        RNF,
        f"Cannot find alias arn: {ARN}<fn>:noalias",
    ),  # fmt: skip
    Row(
        "delete_provisioned_missing_version",
        src(_PC, "delete_provisioned_version_doesnotexist"),
        "delete_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "10"},
        404,
        RNF,
        not_found("<fn>:10"),
    ),  # fmt: skip
    Row(
        "delete_provisioned_latest",
        src(_PC, "delete_provisioned_latest"),
        "delete_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "$LATEST"},
        400,
        IPV,
        "The function resource provided must be an alias or a published version.",
    ),  # fmt: skip
    Row(
        "delete_provisioned_none",
        src(_PC, "delete_provisioned_config_doesnotexist"),
        "delete_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "1"},
        204,
        keys=frozenset(),
    ),  # fmt: skip
    Row(
        "put_provisioned_zero",
        src(_PC, "put_provisioned_invalid_param_0"),
        "put_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "1", "ProvisionedConcurrentExecutions": 0},
        400,
        VAL,
        validation(
            "0",
            "provisionedConcurrentExecutions",
            "Member must have value greater than or equal to 1",
        ),
    ),  # fmt: skip
    Row(
        "put_provisioned_missing_function_alias",
        src(_PC, "put_provisioned_functionname_doesnotexist_alias"),
        "put_provisioned_concurrency_config",
        {
            "FunctionName": "doesnotexist",
            "Qualifier": "noalias",
            "ProvisionedConcurrentExecutions": 1,
        },
        404,
        RNF,
        f"Cannot find alias arn: {ARN}doesnotexist:noalias",
    ),  # fmt: skip
    Row(
        "put_provisioned_missing_function_version",
        src(_PC, "put_provisioned_functionname_doesnotexist_version"),
        "put_provisioned_concurrency_config",
        {"FunctionName": "doesnotexist", "Qualifier": "1", "ProvisionedConcurrentExecutions": 1},
        404,
        RNF,
        not_found("doesnotexist:1"),
    ),  # fmt: skip
    Row(
        "put_provisioned_missing_alias",
        src(_PC, "put_provisioned_qualifier_doesnotexist"),
        "put_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "doesnotexist", "ProvisionedConcurrentExecutions": 1},
        404,
        RNF,
        f"Cannot find alias arn: {ARN}<fn>:doesnotexist",
    ),  # fmt: skip
    Row(
        "put_provisioned_missing_version",
        src(_PC, "put_provisioned_version_doesnotexist"),
        "put_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "10", "ProvisionedConcurrentExecutions": 1},
        404,
        RNF,
        not_found("<fn>:10"),
    ),  # fmt: skip
    Row(
        "put_provisioned_latest",
        src(_PC, "put_provisioned_latest"),
        "put_provisioned_concurrency_config",
        {"FunctionName": "<fn>", "Qualifier": "$LATEST", "ProvisionedConcurrentExecutions": 1},
        400,
        IPV,
        "Provisioned Concurrency Configs cannot be applied to unpublished function versions.",
    ),  # fmt: skip
]


def substitute(value: Any, values: dict[str, str]) -> Any:
    """`value` with every placeholder (`<fn>`, `<region>`, ...) replaced, recursively."""
    if isinstance(value, str):
        for placeholder, replacement in values.items():
            value = value.replace(placeholder, replacement)
        return value
    if isinstance(value, dict):
        return {k: substitute(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, values) for v in value]
    if isinstance(value, frozenset):
        return frozenset(substitute(v, values) for v in value)
    return value
