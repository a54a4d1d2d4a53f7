"""Aliases: a name for a version of a function (`live` -> 3), optionally sending a share of
invocations to one more version (`RoutingConfig.AdditionalVersionWeights`, for canaries).

Pure: the alias as stored and rendered, its validation, and the weighted choice of a version
(`pick_version`, given a uniform draw, so tests can table it). The registry stores aliases; the
alias service (alias_service.py) carries out the API's calls.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from .arns import LATEST
from .errors import constraint, invalid_parameter, validation

# As AWS checks it (botocore's Alias shape): not all digits (that is a version), at most 128.
_ALIAS_NAME = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9\-_]{1,128}")
ALIAS_NAME_PATTERN = "(?!^[0-9]+$)([a-zA-Z0-9-_]+)"
_VERSION = re.compile(r"\$LATEST|[0-9]{1,1024}")
_WEIGHTED_VERSION = re.compile(r"[0-9]{1,1024}")
DESCRIPTION_MAX = 256


def new_revision_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Alias:
    name: str
    function_version: str
    description: str = ""
    # At most one additional version, with the share (0 to 1) of invocations it gets.
    weights: dict[str, float] = field(default_factory=dict)
    revision_id: str = field(default_factory=new_revision_id)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alias:
        return cls(**data)

    def render(self, function_arn: str) -> dict[str, Any]:
        """AWS's AliasConfiguration shape."""
        rendered: dict[str, Any] = {
            "AliasArn": f"{function_arn}:{self.name}",
            "Name": self.name,
            "FunctionVersion": self.function_version,
            "Description": self.description,
            "RevisionId": self.revision_id,
        }
        if self.weights:
            rendered["RoutingConfig"] = {"AdditionalVersionWeights": dict(self.weights)}
        return rendered

    def versions(self) -> set[str]:
        """Every version the alias may send an invocation to."""
        return {self.function_version, *self.weights}


def is_alias_name(qualifier: str) -> bool:
    return _ALIAS_NAME.fullmatch(qualifier) is not None and qualifier != LATEST


def alias_name(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise validation("name", "Member must have length greater than or equal to 1")
    if len(value) > 128:
        raise validation("name", "Member must have length less than or equal to 128")
    if not _ALIAS_NAME.fullmatch(value):
        raise validation(
            "name", f"Member must satisfy regular expression pattern: {ALIAS_NAME_PATTERN}"
        )
    return value


def function_version(value: Any) -> str:
    if not isinstance(value, str) or not _VERSION.fullmatch(value):
        raise validation(
            "functionVersion",
            "Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)",
        )
    return value


def description(value: Any) -> str:
    if not isinstance(value, str):
        raise validation("description", "Member must be a string")
    if len(value) > DESCRIPTION_MAX:
        raise validation(
            "description", f"Member must have length less than or equal to {DESCRIPTION_MAX}"
        )
    return value


def routing(value: Any, primary: str) -> dict[str, float]:
    """RoutingConfig's AdditionalVersionWeights: at most one published version other than the
    primary, with a weight from 0 to 1."""
    if value is None:
        return {}
    weights = value.get("AdditionalVersionWeights") if isinstance(value, dict) else None
    if weights is None:
        return {}
    if not isinstance(weights, dict):
        raise invalid_parameter("AdditionalVersionWeights must be a map of version to weight.")
    if len(weights) > 1:
        raise invalid_parameter(
            "Number of items in AdditionalVersionWeights cannot be greater than 1"
        )
    parsed: dict[str, float] = {}
    for version, weight in weights.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise validation(
                "routingConfig.additionalVersionWeights",
                "Member must have value between 0.0 and 1.0",
            )
        shown = f"{{{version}={float(weight)}}}"  # as AWS shows the map
        if not isinstance(version, str) or not _WEIGHTED_VERSION.fullmatch(version):
            raise constraint(
                shown,
                "routingConfig.additionalVersionWeights",
                "Map keys must satisfy constraint: [Member must have length less than or equal "
                "to 1024, Member must have length greater than or equal to 1, Member must "
                "satisfy regular expression pattern: [0-9]+]",
            )
        if not 0 <= weight <= 1:
            raise constraint(
                shown,
                "routingConfig.additionalVersionWeights",
                "Map value must satisfy constraint: [Member must have value less than or equal "
                "to 1.0, Member must have value greater than or equal to 0.0, Member must not "
                "be null]",
            )
        if version == primary:
            raise invalid_parameter(
                f"Invalid function version {version}. Function version {version} is already "
                "included in routing configuration."
            )
        if primary == LATEST:
            raise invalid_parameter(
                "$LATEST is not supported for an alias pointing to more than 1 version"
            )
        parsed[version] = float(weight)
    return parsed


def pick_version(alias: Alias, draw: float) -> str:
    """The version one invocation runs, for a uniform `draw` in [0, 1): the additional
    version takes its weight's share, the alias's FunctionVersion the rest."""
    for version, weight in alias.weights.items():
        if draw < weight:
            return version
    return alias.function_version
