"""Pure validation of management-API input, before anything is stored.

Model constraints (lengths, ranges, patterns) fail as AWS fails them, with ValidationException;
semantic problems (unknown runtime, reserved variables) with InvalidParameterValueException.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

from .arns import FunctionRef, parse_create_name
from .container_images import parse_image_reference, validate_image_config
from .errors import LambdaError, LambdaErrorCode, constraint, invalid_parameter, validation
from .log_names import function_of_log_group
from .runtimes import unbuildable_reason

MEMORY_RANGE = (128, 10240)
TIMEOUT_RANGE = (1, 900)
EPHEMERAL_RANGE = (512, 10240)
ENVIRONMENT_MAX_BYTES = 4096
DESCRIPTION_MAX = 256
HANDLER_MAX = 128

RESERVED_ENVIRONMENT = frozenset(
    {
        "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
    }
)  # fmt: skip

# botocore's patterns, matched with fullmatch: `$` would also match before a trailing newline.
_ENV_NAME = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+")
_HANDLER = re.compile(r"[^\s\x00]+")  # and no NUL, which no argv or environment can hold
_ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+")


def _require_object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise LambdaError(
            LambdaErrorCode.INVALID_REQUEST_CONTENT, "The request body must be a JSON object."
        )
    return body


def _int_in_range(body: dict[str, Any], key: str, bounds: tuple[int, int]) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation(key, f"Member must be an integer, not {value!r}")
    low, high = bounds
    if value < low:
        raise validation(key, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise validation(key, f"Member must have value less than or equal to {high}")
    return value


def _string(body: dict[str, Any], key: str, max_length: int | None = None) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise validation(key, f"Member must be a string, not {type(value).__name__}")
    if max_length is not None and len(value) > max_length:
        raise validation(key, f"Member must have length less than or equal to {max_length}")
    return value


def publish_request(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """PublishVersion's Description and CodeSha256, checked as the model types them."""
    return _string(body, "Description", DESCRIPTION_MAX), _string(body, "CodeSha256")


def publish_flag(body: dict[str, Any]) -> bool:
    """CreateFunction's and UpdateFunctionCode's Publish: publish a version afterwards."""
    value = body.get("Publish", False)
    if not isinstance(value, bool):
        raise validation("Publish", f"Member must be a boolean, not {type(value).__name__}")
    return value


def function_name(value: Any) -> FunctionRef:
    """CreateFunction's FunctionName: a name, or a partial or full ARN (`arns.parse_create_name`
    checks which)."""
    if not isinstance(value, str) or not value:
        raise constraint(
            None if value is None else str(value),
            "functionName",
            "Member must have length greater than or equal to 1",
        )
    return parse_create_name(value)


def handler(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_parameter("Handler is required for functions with PackageType Zip.")
    if len(value) > HANDLER_MAX:
        raise validation("handler", f"Member must have length less than or equal to {HANDLER_MAX}")
    if not _HANDLER.fullmatch(value):
        raise validation("handler", "Member must satisfy regular expression pattern: [^\\s]+")
    return value


def role(value: Any) -> str:
    if not isinstance(value, str) or not _ROLE.fullmatch(value):
        raise constraint(
            None if value is None else str(value),
            "role",
            "Member must satisfy regular expression pattern: "
            "arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
        )
    return value


def runtime(value: Any, available: Iterable[str]) -> str:
    names = sorted(available)
    if not isinstance(value, str) or value not in names:
        reason = unbuildable_reason(value)
        hint = f" {reason}" if reason else " Build more with `make images`."
        raise invalid_parameter(
            f"The runtime parameter of {value} is not supported by this Lambkin server. "
            f"Available runtimes: {', '.join(names)}.{hint}"
        )
    return value


def environment(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not isinstance(value.get("Variables", {}), dict):
        raise invalid_parameter(
            'Environment must be an object of the form {"Variables": {"NAME": "value"}}.'
        )
    variables = value.get("Variables") or {}
    for name, val in variables.items():
        if not _ENV_NAME.fullmatch(name):
            raise validation(
                "environment.variables",
                "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+ "
                f"(got '{name}')",
            )
        if not isinstance(val, str):
            raise invalid_parameter(f"Environment variable {name} must be a string.")
        if "\x00" in val:
            raise invalid_parameter(
                f"Environment variable {name} holds a NUL character, which no process "
                "environment can hold."
            )
    reserved = sorted(set(variables) & RESERVED_ENVIRONMENT)
    if reserved:
        raise invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided contains reserved keys that are currently not supported "
            f"for modification. Reserved keys used in this request: {', '.join(reserved)}"
        )
    size = sum(len(k.encode()) + len(v.encode()) for k, v in variables.items())
    if size > ENVIRONMENT_MAX_BYTES:
        raise invalid_parameter(
            "Lambda was unable to configure your environment variables because the environment "
            "variables you have provided exceeded the 4KB limit. "
            f"String measured: {size} bytes. Store large values elsewhere (a file in the code zip)."
        )
    return dict(variables)


def ephemeral_storage(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise invalid_parameter('EphemeralStorage must be an object of the form {"Size": 512}.')
    return _int_in_range(value, "Size", EPHEMERAL_RANGE)


def architectures(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        shown = f"[{', '.join(value)}]"
        if len(value) > 1:
            raise constraint(
                shown, "architectures", "Member must have length less than or equal to 1"
            )
        if not set(value) <= {"x86_64", "arm64"}:
            raise constraint(
                shown,
                "architectures",
                "Member must satisfy constraint: [Member must satisfy enum value set: "
                "[x86_64, arm64], Member must not be null]",
            )
    if value != ["x86_64"]:
        raise invalid_parameter(
            f"Architectures {value} are not supported by this server: it runs x86_64 only."
        )
    return ("x86_64",)


IMAGE_TAKES_NO_RUNTIME = (
    "Please don't provide Handler or Runtime or Layer when the intended function PackageType "
    "is Image."
)
NO_CODE = "Please provide a source for function code."


def package_type(body: dict[str, Any]) -> str:
    value = body.get("PackageType", "Zip")
    if value not in ("Zip", "Image"):
        raise validation("packageType", "Member must satisfy enum value set: [Image, Zip]")
    return str(value)


def image_uri(code: Any, *, updating: bool = False) -> str:
    """`Code.ImageUri` (UpdateFunctionCode: `ImageUri`): a Docker image reference."""
    if not isinstance(code, dict) or "ImageUri" not in code:
        if updating:
            raise invalid_parameter(
                "Please provide ImageUri when updating a function with packageType Image."
            )
        raise invalid_parameter(NO_CODE)
    if any(key in code for key in ("ZipFile", "S3Bucket", "S3Key")):
        raise invalid_parameter(
            "Please don't provide ZipFile or S3 code for a function with packageType Image: "
            "give the image as ImageUri only."
        )
    uri = code["ImageUri"]
    if not isinstance(uri, str) or parse_image_reference(uri) is None:
        raise invalid_parameter(
            f"Source image {uri} is not valid. Provide a valid source image: a Docker image "
            "reference, [registry/]name[:tag][@sha256:digest]."
        )
    return uri


def zip_file(code: Any) -> bytes:
    """The zip from `Code.ZipFile` (base64), or a clear error for code sources we do not take."""
    if not isinstance(code, dict):
        raise invalid_parameter('Code is required: {"ZipFile": <base64 of a zip>}.')
    if "ZipFile" not in code:
        if code.get("ImageUri"):
            raise invalid_parameter(
                "Please don't provide ImageUri when the intended function PackageType is Zip "
                "(set PackageType to Image to run a container image)."
            )
        if code.get("S3Bucket"):
            raise invalid_parameter(
                "Only Code.ZipFile is supported by this server; upload the zip directly "
                "(e.g. `aws lambda create-function --zip-file fileb://function.zip`)."
            )
        raise invalid_parameter("Code.ZipFile is required.")
    return decode_zip(code["ZipFile"])


def decode_zip(value: Any) -> bytes:
    if not isinstance(value, str):
        raise invalid_parameter("ZipFile must be a base64-encoded string.")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_parameter(
            "Could not unzip uploaded file. Please check your file, then try to upload again."
        ) from None


# Parameters of the Lambda API this server cannot honour, and what to do instead: refused,
# never silently dropped. An empty value (deployment tools send `VpcConfig: {SubnetIds: []}`,
# `DeadLetterConfig: {}`, `SnapStart: {ApplyOn: None}`) means "none" and passes.
UNHONOURED = {
    "VpcConfig": "functions run on this host's instance network; there is no VPC to attach",
    "DeadLetterConfig": "failed events stay in the built-in dead-letter store (lambkin dlq), "
    "or give an event invoke config an OnFailure destination",
    "KMSKeyArn": "there is no KMS here to encrypt the environment with",
    "FileSystemConfigs": "there is no EFS here: use /tmp or a service the function calls",
    "CodeSigningConfigArn": "code signing is not supported",
    "SnapStart": "there are no snapshots; cold starts from vacant instances take about 60 ms",
    "CapacityProviderConfig": "instances run on this server's own capacity",
    "PublishTo": "publish versions with Publish=True or PublishVersion",
    "DurableConfig": "durable functions are not supported",
    "TenancyConfig": "tenant isolation is not supported",
    "SourceKMSKeyArn": "there is no KMS here to encrypt code with",
}


def _empty(key: str, value: Any) -> bool:
    if value in (None, "", [], {}):
        return True
    if isinstance(value, dict):
        if key == "SnapStart":
            return value.get("ApplyOn") in (None, "None")
        if key == "DeadLetterConfig":
            return not value.get("TargetArn")
        return all(v in (None, "", [], {}, False) for v in value.values())
    return False


def refuse_unhonoured(body: dict[str, Any]) -> None:
    """InvalidParameterValueException for a parameter this server would otherwise drop."""
    for key, instead in UNHONOURED.items():
        if key in body and not _empty(key, body[key]):
            raise invalid_parameter(f"{key} is not supported by this server: {instead}.")


def configuration(
    body: Any, available_runtimes: Iterable[str], *, creating: bool, package: str = "Zip"
) -> dict[str, Any]:
    """Validate the configuration fields shared by CreateFunction and UpdateFunctionConfiguration.

    Returns FunctionConfig keyword arguments for the fields present in the request. `package`
    is the function's PackageType (from the request on create, as stored on update).
    """
    body = _require_object(body)
    fields: dict[str, Any] = {}
    if package == "Image":
        if body.get("Runtime") or body.get("Handler") or body.get("Layers"):
            raise invalid_parameter(IMAGE_TAKES_NO_RUNTIME)
        if "ImageConfig" in body:
            fields["image_settings"] = validate_image_config(body["ImageConfig"])
    refuse_unhonoured(body)  # after the image checks: they say more about what is wrong
    if package != "Image":
        if body.get("ImageConfig"):
            raise invalid_parameter(
                "ImageConfig applies to functions with PackageType Image only: leave it out "
                "for a zip function (its Handler says what to run)."
            )
        if creating or "Runtime" in body:
            fields["runtime"] = runtime(body.get("Runtime"), available_runtimes)
        if creating or "Handler" in body:
            fields["handler"] = handler(body.get("Handler"))
    if creating or "Role" in body:
        fields["role"] = role(body.get("Role"))
    description = _string(body, "Description", DESCRIPTION_MAX)
    if description is not None:
        fields["description"] = description
    for key, attr, bounds in (
        ("Timeout", "timeout", TIMEOUT_RANGE),
        ("MemorySize", "memory_size", MEMORY_RANGE),
    ):
        value = _int_in_range(body, key, bounds)
        if value is not None:
            fields[attr] = value
    if "Environment" in body:
        fields["environment"] = environment(body["Environment"])
    size = ephemeral_storage(body.get("EphemeralStorage"))
    if size is not None:
        fields["ephemeral_storage"] = size
    arch = architectures(body.get("Architectures"))
    if arch is not None:
        fields["architectures"] = arch
    tracing = body.get("TracingConfig")
    if tracing is not None:
        mode = tracing.get("Mode") if isinstance(tracing, dict) else None
        if mode not in ("Active", "PassThrough"):
            raise validation(
                "tracingConfig.mode", "Member must satisfy enum value set: [Active, PassThrough]"
            )
        fields["tracing_mode"] = mode
    if body.get("LoggingConfig") is not None:
        fields["logging"] = logging_request(body["LoggingConfig"])
    return fields


APPLICATION_LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")
LOG_GROUP_PATTERN = re.compile(r"[\.\-_/#A-Za-z0-9]+")
LOG_LEVEL_NEEDS_JSON = (
    'LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your '
    'request or change the LogFormat to "Json" and try again.'
)
_LOGGING_KEYS = {
    "LogFormat": ("loggingConfig.logFormat", ("JSON", "Text")),
    "ApplicationLogLevel": ("loggingConfig.applicationLogLevel", APPLICATION_LOG_LEVELS),
    "SystemLogLevel": ("loggingConfig.systemLogLevel", SYSTEM_LOG_LEVELS),
}


def logging_request(value: Any) -> dict[str, str]:
    """LoggingConfig's members as given (each checked against botocore's model)."""
    if not isinstance(value, dict):
        raise validation("loggingConfig", "Member must be a structure")
    given: dict[str, str] = {}
    for key, (field_name, allowed) in _LOGGING_KEYS.items():
        member = value.get(key)
        if member is None:
            continue
        if member not in allowed:
            raise validation(
                field_name, f"Member must satisfy enum value set: [{', '.join(allowed)}]"
            )
        given[key] = member
    group = value.get("LogGroup")
    if group is not None:
        if not isinstance(group, str) or not 1 <= len(group) <= 512:
            raise validation("loggingConfig.logGroup", "Member must have length between 1 and 512")
        if not LOG_GROUP_PATTERN.fullmatch(group):
            raise validation(
                "loggingConfig.logGroup",
                "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+",
            )
        given["LogGroup"] = group
    return given


DEFAULT_LOGGING = {
    "log_format": "Text",
    "application_log_level": "",
    "system_log_level": "",
    "custom_log_group": "",
}


def logging_fields(given: dict[str, str], now: dict[str, str], function: str) -> dict[str, str]:
    """FunctionConfig's log_* fields after a LoggingConfig (`given`) on top of `now`'s: members
    left out keep their values; levels exist only with JSON (INFO by default), and a level
    asked for with Text is refused as AWS refuses it. A custom LogGroup may not be another
    function's own group (`/aws/lambda/<other>`): the function would write lines into logs its
    deployer may not touch, for that function's readers to trust."""
    group = given.get("LogGroup")
    owner = function_of_log_group(group) if group else None
    if owner is not None and owner != function:
        raise invalid_parameter(
            f"LogGroup {group} is the log group of the function {owner}: name a group of this "
            f"function's own (e.g. /aws/lambda/{function} or /custom/{function})."
        )
    log_format = given.get("LogFormat", now["log_format"])
    asks_level = "ApplicationLogLevel" in given or "SystemLogLevel" in given
    if log_format != "JSON":
        if asks_level:
            raise invalid_parameter(LOG_LEVEL_NEEDS_JSON)
        application, system = "", ""
    else:
        application = given.get("ApplicationLogLevel", now["application_log_level"] or "INFO")
        system = given.get("SystemLogLevel", now["system_log_level"] or "INFO")
    return {
        "log_format": log_format,
        "application_log_level": application,
        "system_log_level": system,
        "custom_log_group": given.get("LogGroup", now["custom_log_group"]),
    }


def tags(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise invalid_parameter("Tags must be an object of string keys and string values.")
    return dict(value)


TAGS_MAX = 50
# The resources AWS's TagResource, UntagResource and ListTags name (its messages quote this).
RESOURCE_PATTERN = (
    "arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:"
    "(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|"
    "code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    "[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)"
)
_RESOURCE = re.compile(
    r"arn:(?:aws[a-zA-Z-]*):lambda:(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso[a-z]?))?-[a-z]+-\d:"
    r"\d{12}:(?:function:[a-zA-Z0-9\-_]+(?::(?:\$LATEST|[a-zA-Z0-9\-_]+))?|layer:[a-zA-Z0-9\-_]+|"
    r"code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9\-_]+)"
)


def tag_count(tags: dict[str, str]) -> None:
    if len(tags) > TAGS_MAX:
        raise invalid_parameter("Number of tags exceeds resource tag limit.")


def tagged_resource(arn: str) -> str:
    """The ARN of TagResource, UntagResource or ListTags, checked against AWS's pattern."""
    if not _RESOURCE.fullmatch(arn):
        raise constraint(
            arn, "resource", f"Member must satisfy regular expression pattern: {RESOURCE_PATTERN}"
        )
    return arn
