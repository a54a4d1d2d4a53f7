"""Layers (pure): names and ARNs, a layer version as stored and rendered, and the validation of
PublishLayerVersion, ListLayers and a function's `Layers`, worded as AWS words each refusal
(the recorded answers are in tests/conformance and tests/integration/test_layers.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import LambdaError, constraint_failure, constraints_failed, invalid_parameter

MAX_FUNCTION_LAYERS = 5
LIST_PAGE_MAX = 50
NAME_MAX = 140
DESCRIPTION_MAX = 256
LICENSE_MAX = 512
COMPATIBLE_RUNTIMES_MAX = 15

_NAME = re.compile(r"[a-zA-Z0-9\-_]+")
_LAYER_ARN = re.compile(
    r"arn:(?P<partition>[a-zA-Z0-9-]+):lambda:(?P<region>[a-zA-Z0-9-]+):(?P<account>\d{12}):"
    r"layer:(?P<name>[a-zA-Z0-9\-_]+)"
)
_VERSION_ARN = re.compile(_LAYER_ARN.pattern + r":(?P<version>[0-9]+)")
# AWS's own pattern, as its messages quote it (the `awslayer` form names AWS-managed layers,
# which no server but AWS has).
VERSION_ARN_PATTERN = (
    r"(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:"
    r"\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)"
)
_AWS_VERSION_ARN = re.compile(VERSION_ARN_PATTERN)

# The runtimes a layer version may declare, in the order AWS lists them when it refuses one.
PUBLISHABLE_RUNTIMES = (
    "nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, "
    "java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, "
    "java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2"
).split(", ")
# What ListLayers and ListLayerVersions filter by: every identifier Lambda ever had.
LISTABLE_RUNTIMES = (
    "ruby3.5, ruby2.6, dotnetcore1.0, python3.7, nodejs8.10, nasa, ruby2.7, python2.7-greengrass, "
    "dotnetcore2.0, python3.8, java21, dotnet6, dotnetcore2.1, python3.9, java11, nodejs6.10, "
    "provided, dotnetcore3.1, dotnet8, java25, java17, nodejs, nodejs4.3, java8.al2, go1.x, "
    "dotnet10, nodejs20.x, go1.9, byol, nodejs10.x, provided.al2023, nodejs22.x, python3.10, "
    "java8, nodejs12.x, python3.11, nodejs24.x, nodejs8.x, python3.12, nodejs14.x, nodejs8.9, "
    "nodejs26.x, python3.13, python3.14, nodejs16.x, python3.15, provided.al2, nodejs4.3-edge, "
    "nodejs18.x, ruby3.2, python3.4, ruby3.3, ruby3.4, ruby2.5, python3.6, python2.7"
).split(", ")
ARCHITECTURES = ("x86_64", "arm64")
NOT_FOUND = "The resource you requested does not exist."
VERSION_BELOW_ONE = "Layer Version Cannot be less than 1"


def layer_arn(region: str, account_id: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account_id}:layer:{name}"


def version_arn(region: str, account_id: str, name: str, version: int) -> str:
    return f"{layer_arn(region, account_id, name)}:{version}"


@dataclass(frozen=True)
class VersionArn:
    region: str
    account_id: str
    name: str
    version: int


def parse_version_arn(value: str) -> VersionArn | None:
    match = _VERSION_ARN.fullmatch(value)
    if match is None:
        return None
    return VersionArn(match["region"], match["account"], match["name"], int(match["version"]))


def constraint_failures(failures: Sequence[tuple[str, str, str]]) -> LambdaError:
    """AWS's ValidationException for model constraints: (value as AWS prints it, the member's
    name, the constraint) each, all in one answer."""
    return constraints_failed(
        [constraint_failure(value, member, c) for value, member, c in failures]
    )


def _enum(values: Iterable[str]) -> str:
    return f"Member must satisfy enum value set: [{', '.join(values)}]"


def layer_name(value: str) -> str:
    """The layer a path names: its name, or its ARN (LayerName takes either)."""
    if len(value) <= NAME_MAX:
        if _NAME.fullmatch(value):
            return value
        match = _LAYER_ARN.fullmatch(value)
        if match is not None:
            return match["name"]
    raise constraint_failures(
        [
            (
                value,
                "layerName",
                "Member must satisfy regular expression pattern: "
                r"(arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)"
                r"|[a-zA-Z0-9-_]+",
            )
        ]
    )


def version_number(value: str) -> int:
    """A version number from the path: AWS refuses 0 and negatives in words of its own."""
    try:
        number = int(value)
    except ValueError:
        raise constraint_failures([(value, "versionNumber", "Member must be a number")]) from None
    if number < 1:
        raise invalid_parameter(VERSION_BELOW_ONE)
    return number


@dataclass(frozen=True)
class LayerVersion:
    """One published layer version: immutable but for its permissions policy."""

    name: str
    version: int
    code_sha256_hex: str
    code_sha256: str  # base64, as AWS's CodeSha256
    code_size: int
    created_date: str
    description: str = ""
    license_info: str | None = None
    compatible_runtimes: tuple[str, ...] | None = None
    compatible_architectures: tuple[str, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("compatible_runtimes", "compatible_architectures"):
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LayerVersion:
        return cls(
            **{
                **data,
                "compatible_runtimes": _tuple_or_none(data.get("compatible_runtimes")),
                "compatible_architectures": _tuple_or_none(data.get("compatible_architectures")),
            }
        )

    def arn(self, region: str, account_id: str) -> str:
        return version_arn(region, account_id, self.name, self.version)

    def render_item(self, region: str, account_id: str) -> dict[str, Any]:
        """LayerVersionsListItem: what ListLayerVersions and ListLayers show of a version."""
        rendered: dict[str, Any] = {
            "LayerVersionArn": self.arn(region, account_id),
            "Version": self.version,
            "Description": self.description,
            "CreatedDate": self.created_date,
        }
        if self.compatible_runtimes is not None:
            rendered["CompatibleRuntimes"] = list(self.compatible_runtimes)
        if self.license_info is not None:
            rendered["LicenseInfo"] = self.license_info
        if self.compatible_architectures is not None:
            rendered["CompatibleArchitectures"] = list(self.compatible_architectures)
        return rendered

    def render(self, region: str, account_id: str, location: str) -> dict[str, Any]:
        """Publish/GetLayerVersion's answer."""
        return {
            "Content": {
                "Location": location,
                "CodeSha256": self.code_sha256,
                "CodeSize": self.code_size,
            },
            "LayerArn": layer_arn(region, account_id, self.name),
            **self.render_item(region, account_id),
        }


def _tuple_or_none(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


@dataclass(frozen=True)
class PublishRequest:
    description: str = ""
    license_info: str | None = None
    compatible_runtimes: tuple[str, ...] | None = None
    compatible_architectures: tuple[str, ...] | None = None


def publish_request(body: dict[str, Any]) -> PublishRequest:
    """PublishLayerVersion's fields but Content, validated; AWS reports every bad list at once."""
    failures: list[tuple[str, str, str]] = []
    runtimes = _string_list(body, "CompatibleRuntimes", COMPATIBLE_RUNTIMES_MAX)
    if runtimes is not None and any(r not in PUBLISHABLE_RUNTIMES for r in runtimes):
        failures.append(
            (f"[{', '.join(runtimes)}]", "compatibleRuntimes", _enum(PUBLISHABLE_RUNTIMES))
        )
    architectures = _string_list(body, "CompatibleArchitectures", len(ARCHITECTURES))
    if architectures is not None and any(a not in ARCHITECTURES for a in architectures):
        failures.append(
            (
                f"[{', '.join(architectures)}]",
                "compatibleArchitectures",
                f"Member must satisfy constraint: [{_enum(ARCHITECTURES)}, Member must not be "
                "null]",
            )
        )
    if failures:
        raise constraint_failures(failures)
    return PublishRequest(
        description=_bounded(body, "Description", DESCRIPTION_MAX) or "",
        license_info=_bounded(body, "LicenseInfo", LICENSE_MAX),
        compatible_runtimes=None if runtimes is None else tuple(runtimes),
        compatible_architectures=None if architectures is None else tuple(architectures),
    )


def _string_list(body: dict[str, Any], key: str, max_items: int) -> list[str] | None:
    value = body.get(key)
    if value is None:
        return None
    member = key[0].lower() + key[1:]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise constraint_failures([(str(value), member, "Member must be a list of strings")])
    if len(value) > max_items:
        raise constraint_failures(
            [
                (
                    f"[{', '.join(value)}]",
                    member,
                    f"Member must have length less than or equal to {max_items}",
                )
            ]
        )
    return value


def _bounded(body: dict[str, Any], key: str, max_length: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    member = key[0].lower() + key[1:]
    if not isinstance(value, str):
        raise constraint_failures([(str(value), member, "Member must be a string")])
    if len(value) > max_length:
        raise constraint_failures(
            [(value, member, f"Member must have length less than or equal to {max_length}")]
        )
    return value


def list_filters(runtime: str | None, architecture: str | None) -> None:
    """ListLayers' and ListLayerVersions' query filters."""
    if runtime is not None and runtime not in LISTABLE_RUNTIMES:
        raise constraint_failures([(runtime, "compatibleRuntime", _enum(LISTABLE_RUNTIMES))])
    if architecture is not None and architecture not in ARCHITECTURES:
        raise constraint_failures([(architecture, "compatibleArchitecture", _enum(ARCHITECTURES))])


def matches(layer: LayerVersion, runtime: str | None, architecture: str | None) -> bool:
    """Whether a version passes the list filters: a filter matches only versions declaring it."""
    if runtime is not None and runtime not in (layer.compatible_runtimes or ()):
        return False
    return architecture is None or architecture in (layer.compatible_architectures or ())


def page_limit(max_items: str | None) -> int:
    if max_items is None:
        return LIST_PAGE_MAX
    try:
        limit = int(max_items)
    except ValueError:
        raise constraint_failures([(max_items, "maxItems", "Member must be a number")]) from None
    if not 1 <= limit <= LIST_PAGE_MAX:
        raise constraint_failures(
            [(max_items, "maxItems", f"Member must have value between 1 and {LIST_PAGE_MAX}")]
        )
    return limit


def function_layers(value: Any, region: str) -> list[VersionArn]:
    """A function's `Layers`: at most five version ARNs of this region, one version per layer,
    in the order given (later ones win where their files overlap)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise invalid_parameter("Layers must be a list of layer version ARNs.")
    bad = [arn for arn in value if not (1 <= len(arn) <= 2048 and _AWS_VERSION_ARN.fullmatch(arn))]
    if bad:
        raise constraint_failures(
            [
                (
                    f"[{', '.join(value)}]",
                    "layers",
                    "Member must satisfy constraint: [Member must have length less than or equal "
                    "to 2048, Member must have length greater than or equal to 1, Member must "
                    f"satisfy regular expression pattern: {VERSION_ARN_PATTERN}, Member must not "
                    "be null]",
                )
            ]
        )
    if len(value) > MAX_FUNCTION_LAYERS:
        raise invalid_parameter(f"Cannot reference more than {MAX_FUNCTION_LAYERS} layers.")
    parsed: list[VersionArn] = []
    for arn in value:
        ref = parse_version_arn(arn)
        if ref is None:  # the `awslayer` form: AWS's own layers, which only AWS serves
            raise invalid_parameter(f"Layer version {arn} does not exist.")
        parsed.append(ref)
    if any(ref.region != region for ref in parsed):
        raise invalid_parameter(
            "Layers are not in the same region as the function. Layers are expected to be in "
            f"region {region}."
        )
    seen: dict[tuple[str, str], str] = {}
    for arn, ref in zip(value, parsed, strict=True):
        first = seen.setdefault((ref.account_id, ref.name), arn)
        if first is not arn:
            raise invalid_parameter(
                "Two different versions of the same layer are not allowed to be referenced in "
                f"the same function. {first} and {arn} are versions of the same layer."
            )
    return parsed


@dataclass(frozen=True)
class FunctionLayer:
    """A layer version as a function holds it: kept even after the version is deleted (AWS
    keeps a deleted version's content for the functions that use it)."""

    arn: str
    code_size: int
    code_sha256_hex: str

    def render(self) -> dict[str, Any]:
        return {"Arn": self.arn, "CodeSize": self.code_size}


@dataclass(frozen=True)
class Policy:
    """A layer version's permissions policy: statements by id, and its revision."""

    revision_id: str
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)

    def render(self) -> dict[str, Any]:
        """GetLayerVersionPolicy's answer: the policy document as a JSON string, as AWS sends it."""
        document = {
            "Version": "2012-10-17",
            "Id": "default",
            "Statement": list(self.statements.values()),
        }
        return {"Policy": json.dumps(document), "RevisionId": self.revision_id}


_STATEMENT_ID = re.compile(r"[a-zA-Z0-9\-_]{1,100}")
_PRINCIPAL = re.compile(r"\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root")
_ORGANIZATION = re.compile(r"o-[a-z0-9]{10,32}")
GET_LAYER_VERSION = "lambda:GetLayerVersion"


def statement(body: dict[str, Any], resource: str) -> dict[str, Any]:
    """AddLayerVersionPermission's statement, validated as AWS's model constrains it. Lambkin
    keeps and returns it; access to layers is decided by the credentials file's permissions."""
    sid, action, principal = body.get("StatementId"), body.get("Action"), body.get("Principal")
    organization = body.get("OrganizationId")
    if not isinstance(sid, str) or not _STATEMENT_ID.fullmatch(sid):
        raise constraint_failures(
            [
                (
                    str(sid),
                    "statementId",
                    "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_]+)",
                )
            ]
        )
    if action != GET_LAYER_VERSION:
        raise constraint_failures(
            [
                (
                    str(action),
                    "action",
                    f"Member must satisfy regular expression pattern: {GET_LAYER_VERSION}",
                )
            ]
        )
    if not isinstance(principal, str) or not _PRINCIPAL.fullmatch(principal):
        raise constraint_failures(
            [
                (
                    str(principal),
                    "principal",
                    "Member must satisfy regular expression pattern: "
                    r"\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root",
                )
            ]
        )
    result: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": GET_LAYER_VERSION,
        "Resource": resource,
    }
    if organization is not None:
        if not isinstance(organization, str) or not _ORGANIZATION.fullmatch(organization):
            raise constraint_failures(
                [
                    (
                        str(organization),
                        "organizationId",
                        "Member must satisfy regular expression pattern: o-[a-z0-9]{10,32}",
                    )
                ]
            )
        result["Condition"] = {"StringEquals": {"aws:PrincipalOrgID": organization}}
    return result
