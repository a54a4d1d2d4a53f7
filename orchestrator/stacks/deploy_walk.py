"""One walk over a stack's resources (`Walk`): what it has changed so far, what references
evaluate to, and the API calls it makes, each error worded for the user (`DeployError`).

With `apply=False` the walk plans: every handler compares what the template wants with what the
server has and predicts the results of changes (a new layer version is the latest + 1, a
function's ARN follows from its name); with `apply=True` it makes the changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .intrinsics import Scope


class DeployError(Exception):
    """A resource could not be deployed; the message names it and the API's answer."""


@dataclass(frozen=True)
class Change:
    logical_id: str
    type: str
    action: str  # create | update | unchanged | not created
    detail: str = ""


@dataclass
class Walk:
    client: Any  # a botocore Lambda client
    stack: str
    region: str
    account_id: str
    scope: Scope
    local_code: dict[str, Path]
    apply: bool
    say: Callable[[str], None] = lambda line: None
    hot_reload: bool = False  # functions' local folders served live, not zipped
    changed: set[str] = field(default_factory=set)  # logical ids created or updated
    changes: list[Change] = field(default_factory=list)

    def arn(self, kind: str, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:{kind}:{name}"

    def record(self, change: Change) -> None:
        self.changes.append(change)
        if change.action in ("create", "update"):
            self.changed.add(change.logical_id)


def call(what: str, operation: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return operation(**kwargs)
    except Exception as exc:  # botocore's ClientError and its modeled subclasses
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            error = response.get("Error", {})
            raise DeployError(f"{what}: {error.get('Code')}: {error.get('Message')}") from None
        raise


def missing(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    return isinstance(response, dict) and response.get("Error", {}).get("Code") in (
        "ResourceNotFoundException",
        "404",
    )


def get(operation: Callable[..., Any], **kwargs: Any) -> Any:
    """A read whose answer may be 'there is none'."""
    try:
        return operation(**kwargs)
    except Exception as exc:
        if missing(exc):
            return None
        raise
