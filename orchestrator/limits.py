"""Per-function instance limits: server defaults, overridden by the function's tags.

Lambda has no API for these knobs, so Lambkin reads them from tags (settable with CreateFunction
`Tags` or TagResource), which every Lambda client already speaks:

    lambkin:idle-timeout      seconds an idle instance is kept (default: server's idle_timeout_s)
    lambkin:max-lifetime      seconds before an instance is recycled (default: max_lifetime_s)
    lambkin:max-invocations   invocations before an instance is recycled (0: unlimited)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import invalid_parameter
from .settings import Settings

TAG_IDLE_TIMEOUT = "lambkin:idle-timeout"
TAG_MAX_LIFETIME = "lambkin:max-lifetime"
TAG_MAX_INVOCATIONS = "lambkin:max-invocations"
TAGS = (TAG_IDLE_TIMEOUT, TAG_MAX_LIFETIME, TAG_MAX_INVOCATIONS)


@dataclass(frozen=True)
class InstanceLimits:
    idle_timeout_s: float
    max_lifetime_s: float
    max_invocations: int  # 0: unlimited


def _number(tags: Mapping[str, str], key: str) -> float | None:
    if key not in tags:
        return None
    try:
        value = float(tags[key])
    except ValueError:
        value = -1.0
    if value < 0 or value != value:
        raise invalid_parameter(f"Tag {key} must be a non-negative number, not {tags[key]!r}.")
    return value


def validate_tags(tags: Mapping[str, str]) -> None:
    for key in TAGS:
        _number(tags, key)


def instance_limits(tags: Mapping[str, str], settings: Settings) -> InstanceLimits:
    idle = _number(tags, TAG_IDLE_TIMEOUT)
    lifetime = _number(tags, TAG_MAX_LIFETIME)
    invocations = _number(tags, TAG_MAX_INVOCATIONS)
    return InstanceLimits(
        idle_timeout_s=settings.idle_timeout_s if idle is None else idle,
        max_lifetime_s=settings.max_lifetime_s if lifetime is None else lifetime,
        max_invocations=settings.max_invocations_per_instance
        if invocations is None
        else int(invocations),
    )
