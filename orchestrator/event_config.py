"""Per-function asynchronous invocation settings (PutFunctionEventInvokeConfig and friends)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from .arns import parse_function_ref
from .errors import constraint, invalid_parameter, validation
from .function_config import now_timestamp

RETRY_RANGE = (0, 2)
AGE_RANGE = (60, 21600)
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9\-_]+(:\$LATEST)?$"
)


# The function setting holding $LATEST's EventInvokeConfig; a version's or an alias's is
# under "<this>:<qualifier>".
EVENT_CONFIG_SETTING = "event_invoke_config"


def event_config_setting(qualifier: str | None) -> str:
    """The function setting holding a qualifier's EventInvokeConfig ($LATEST: the plain one)."""
    if qualifier in (None, "$LATEST"):
        return EVENT_CONFIG_SETTING
    return f"{EVENT_CONFIG_SETTING}:{qualifier}"


@dataclass(frozen=True)
class EventInvokeConfig:
    maximum_retry_attempts: int = 2
    maximum_event_age_s: int = 21600
    on_success: str | None = None
    on_failure: str | None = None
    last_modified: str = ""
    # Which of the two numbers the caller gave: AWS's answers carry only those (the others
    # still apply, at their defaults).
    given: tuple[str, ...] = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> EventInvokeConfig:
        if not data:
            return cls()
        return cls(**{**data, "given": tuple(data.get("given", cls.given))})

    def render(self, function_arn: str, qualifier: str | None = None) -> dict[str, Any]:
        """AWS's answer; its FunctionArn is always qualified ($LATEST when none was given)."""
        destinations: dict[str, Any] = {}
        if self.on_success:
            destinations["OnSuccess"] = {"Destination": self.on_success}
        if self.on_failure:
            destinations["OnFailure"] = {"Destination": self.on_failure}
        rendered: dict[str, Any] = {
            "LastModified": self.last_modified,
            "FunctionArn": f"{function_arn}:{qualifier or '$LATEST'}",
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "MaximumEventAgeInSeconds": self.maximum_event_age_s,
            "DestinationConfig": destinations,
        }
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if key not in self.given:
                del rendered[key]
        return rendered


def destination_function(destination: str) -> str | None:
    """The function a Lambda-ARN destination names, or None for a webhook URL."""
    if destination.startswith(("http://", "https://")):
        return None
    return parse_function_ref(destination).name


def _bounded(body: dict[str, Any], key: str, bounds: tuple[int, int], default: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise validation(key, "Member must be an integer")
    if not bounds[0] <= value <= bounds[1]:
        raise validation(key, f"Member must have value between {bounds[0]} and {bounds[1]}")
    return value


# AWS's pattern for a destination (its messages quote it), and the services it sends to.
_DESTINATION = re.compile(
    r"|kafka://(?:[^.](?:[a-zA-Z0-9\-_.]{0,248}))|arn:(?:aws[a-zA-Z0-9-]*):(?P<service>[a-zA-Z0-9\-]+):"
    r"(?:(?:eusc-)?[a-z]{2}(?:(?:-gov)|(?:-iso[a-z]?))?-[a-z]+-\d)?:(?:\d{12})?:(?:.*)"
)
DESTINATION_PATTERN = (
    "$|kafka://([^.]([a-zA-Z0-9\\-_.]{0,248}))|arn:(aws[a-zA-Z0-9-]*):([a-zA-Z0-9\\-])+:"
    "((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1})?:(\\d{12})?:(.*)"
)
_AWS_DESTINATIONS = {"lambda", "sqs", "sns", "events", "s3"}


def _destination(config: Any, which: str, function_exists: Any, itself: str | None) -> str | None:
    if config is None:
        return None
    if not isinstance(config, dict):
        raise invalid_parameter(
            f'DestinationConfig.{which} must be {{"Destination": "<arn or URL>"}}.'
        )
    if config.get("Destination") in (None, ""):
        return None  # AWS takes an empty destination as none
    destination = config["Destination"]
    if not isinstance(destination, str):
        raise invalid_parameter(
            f'DestinationConfig.{which} must be {{"Destination": "<arn or URL>"}}.'
        )
    # No spaces or control characters: a URL is written into a request line, an ARN stored.
    printable = destination.isprintable() and " " not in destination
    if printable and destination.startswith(("http://", "https://")):
        return destination
    shape = _DESTINATION.fullmatch(destination)
    if shape is None:
        field = "destinationConfig." + which[0].lower() + which[1:] + ".destination"
        raise constraint(
            destination,
            field,
            f"Member must satisfy regular expression pattern: {DESTINATION_PATTERN}",
        )
    if shape.group("service") not in _AWS_DESTINATIONS:
        on_success = f"OnSuccess(destination={destination})" if which == "OnSuccess" else "null"
        on_failure = f"OnFailure(destination={destination})" if which == "OnFailure" else "null"
        raise invalid_parameter(
            f"The provided destination config DestinationConfig(onSuccess={on_success}, "
            f"onFailure={on_failure}) is invalid."
        )
    if not printable or not _LAMBDA_ARN.fullmatch(destination):
        raise invalid_parameter(
            f"The destination {destination} is not supported by this server: "
            "use a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>) "
            "or an http(s) webhook URL."
        )
    name = destination_function(destination)
    if name is not None and name == itself:
        raise invalid_parameter("You can't specify the function as a destination for itself.")
    if name is None or not function_exists(name):
        raise invalid_parameter(f"The destination ARN {destination} is invalid.")
    return destination


def require_setting(body: dict[str, Any]) -> None:
    """AWS refuses a Put or Update that sets nothing (before it looks for the function)."""
    if not any(
        body.get(k) is not None
        for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")
    ):
        raise invalid_parameter(
            "You must specify at least one of error handling or destination setting."
        )


def parse(
    body: Any,
    function_exists: Any,
    base: EventInvokeConfig | None = None,
    itself: str | None = None,
) -> EventInvokeConfig:
    """Validate a Put (base None: unset fields get defaults) or Update (base: keep unset fields).
    `itself` is the function the config is for, which may not be its own destination."""
    if not isinstance(body, dict):
        raise invalid_parameter("The request body must be a JSON object.")
    start = base or EventInvokeConfig(given=())
    given = tuple(
        k
        for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds")
        if k in start.given or body.get(k) is not None
    )
    retries = _bounded(body, "MaximumRetryAttempts", RETRY_RANGE, start.maximum_retry_attempts)
    age = _bounded(body, "MaximumEventAgeInSeconds", AGE_RANGE, start.maximum_event_age_s)
    on_success, on_failure = start.on_success, start.on_failure
    if "DestinationConfig" in body:
        destinations = body["DestinationConfig"]
        if not isinstance(destinations, dict):
            raise invalid_parameter(
                "DestinationConfig must be an object with OnSuccess and/or OnFailure."
            )
        if "OnSuccess" in destinations:
            on_success = _destination(
                destinations["OnSuccess"], "OnSuccess", function_exists, itself
            )
        if "OnFailure" in destinations:
            on_failure = _destination(
                destinations["OnFailure"], "OnFailure", function_exists, itself
            )
    return EventInvokeConfig(retries, age, on_success, on_failure, now_timestamp(), given)
