"""A CloudFormation template's resources as Lambkin deploys them (pure): which types it can
create, in which order (what each refers to first), and the names it gives them.

Lambkin creates Lambda's own resources. An `AWS::IAM::Role` is accepted but not created (roles
and their permissions live in Lambkin's credentials file); its ARN is the one the template names
or `arn:aws:iam::<account>:role/<stack>-<logical id>`. Any other type is listed as not created:
a reference to it evaluates to its logical id, and the plan says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .intrinsics import references
from .template_files import TemplateError

FUNCTION = "AWS::Lambda::Function"
LAYER = "AWS::Lambda::LayerVersion"
VERSION = "AWS::Lambda::Version"
ALIAS = "AWS::Lambda::Alias"
URL = "AWS::Lambda::Url"
PERMISSION = "AWS::Lambda::Permission"
EVENT_INVOKE_CONFIG = "AWS::Lambda::EventInvokeConfig"
ROLE = "AWS::IAM::Role"
CREATED = frozenset({FUNCTION, LAYER, VERSION, ALIAS, URL, PERMISSION, EVENT_INVOKE_CONFIG})
ACCEPTED = CREATED | {ROLE}
MAX_FUNCTION_NAME = 64


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    type: str
    properties: dict[str, Any]  # as written: intrinsic functions not evaluated yet
    depends_on: tuple[str, ...]
    condition: str | None
    metadata: dict[str, Any] = field(default_factory=dict)  # e.g. Lambkin's BuildCommand

    @property
    def created(self) -> bool:
        return self.type in CREATED


def read_resources(template: dict[str, Any]) -> list[StackResource]:
    out: list[StackResource] = []
    for logical_id, body in template["Resources"].items():
        if not isinstance(body, dict) or not isinstance(body.get("Type"), str):
            raise TemplateError(f"resource {logical_id}: needs a Type")
        properties = body.get("Properties") or {}
        if not isinstance(properties, dict):
            raise TemplateError(f"resource {logical_id}: Properties must be a mapping")
        depends = body.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else depends
        if not isinstance(depends, list) or not all(isinstance(d, str) for d in depends):
            raise TemplateError(f"resource {logical_id}: DependsOn must be a name or a list")
        condition = body.get("Condition")
        metadata = body.get("Metadata")
        out.append(
            StackResource(
                str(logical_id),
                body["Type"],
                properties,
                tuple(depends),
                condition if isinstance(condition, str) else None,
                metadata if isinstance(metadata, dict) else {},
            )
        )
    return out


def deploy_order(resources: list[StackResource]) -> list[StackResource]:
    """Each resource after those it refers to (Ref, GetAtt, Sub, DependsOn); the template's own
    order where it does not matter. A cycle is refused, naming it."""
    by_id = {r.logical_id: r for r in resources}
    needs = {
        r.logical_id: {
            name
            for name in (*references(r.properties), *r.depends_on)
            if name in by_id and name != r.logical_id
        }
        for r in resources
    }
    for r in resources:
        missing = [d for d in r.depends_on if d not in by_id]
        if missing:
            raise TemplateError(f"resource {r.logical_id}: DependsOn names no resource {missing}")
    ordered: list[StackResource] = []
    placed: set[str] = set()
    visiting: list[str] = []

    def place(logical_id: str) -> None:
        if logical_id in placed:
            return
        if logical_id in visiting:
            cycle = visiting[visiting.index(logical_id) :] + [logical_id]
            raise TemplateError("resources refer to one another in a circle: " + " -> ".join(cycle))
        visiting.append(logical_id)
        for dependency in sorted(needs[logical_id], key=list(by_id).index):
            place(dependency)
        visiting.pop()
        placed.add(logical_id)
        ordered.append(by_id[logical_id])

    for r in resources:
        place(r.logical_id)
    return ordered


def physical_name(stack: str, logical_id: str, limit: int = MAX_FUNCTION_NAME) -> str:
    """The name of a resource the template does not name: `<stack>-<logical id>`, as short as
    the limit needs (the logical id is kept whole when it can be)."""
    name = f"{stack}-{logical_id}"
    if len(name) <= limit:
        return name
    return f"{stack[: max(1, limit - len(logical_id) - 1)]}-{logical_id}"[:limit]
