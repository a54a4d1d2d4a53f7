"""`lambkin deploy --template` and `lambkin delete --template`: a template's Lambda resources
created or updated in dependency order, a plan printed first, each resource changed only when it
differs from what the server has.

The Lambda client is botocore's own (the API Lambkin serves is Lambda's), signed with the keys
the AWS tools find, as every `lambkin` command is, or unsigned when there are none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session
from botocore import UNSIGNED
from botocore.config import Config

from . import stack_model as model
from .deploy_code import STACK_TAG
from .deploy_walk import Change, DeployError, Walk
from .intrinsics import IntrinsicError, Scope, evaluate_conditions
from .sam_transform import to_cloudformation
from .stack_deploy import walk_resources
from .template_files import TemplateError, load_template

DEFAULT_ACCOUNT = "000000000000"
_STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")


class StackError(Exception):
    """What the user sees: the template, a parameter or the server refused."""


@dataclass(frozen=True)
class Stack:
    name: str
    resources: list[model.StackResource]
    scope: Scope
    local_code: dict[str, Path]  # SAM's placeholder S3 keys -> local folders


def parse_overrides(items: list[str]) -> dict[str, str]:
    """`Key=Value`, or SAM's `ParameterKey=Key,ParameterValue=Value`, each item one or several
    separated by spaces (as `sam deploy --parameter-overrides` takes them)."""
    values: dict[str, str] = {}
    for item in items:
        for part in item.split():
            sam_form = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", part)
            if sam_form:
                values[sam_form[1]] = sam_form[2]
                continue
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise StackError(f"parameter override {part!r}: write Key=Value")
            values[key] = value
    return values


def stack_name_for(template: Path, given: str | None) -> str:
    name = given or template.resolve().parent.name
    name = re.sub(r"[^A-Za-z0-9-]", "-", name).strip("-") or "stack"
    if not name[0].isalpha():
        name = f"stack-{name}"
    if not _STACK_NAME.fullmatch(name):
        raise StackError(
            f"stack name {name!r}: letters, digits and hyphens, starting with a letter"
        )
    return name


def _parameters(template: dict[str, Any], overrides: dict[str, str]) -> dict[str, Any]:
    declared = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise StackError(f"parameter overrides {unknown} are not in the template's Parameters")
    values: dict[str, Any] = {}
    for key, spec in declared.items():
        if key in overrides:
            value: Any = overrides[key]
        elif isinstance(spec, dict) and "Default" in spec:
            value = spec["Default"]
        else:
            raise StackError(
                f"parameter {key} has no Default: give it with --parameter-overrides {key}=..."
            )
        allowed = spec.get("AllowedValues") if isinstance(spec, dict) else None
        if allowed and str(value) not in [str(a) for a in allowed]:
            raise StackError(f"parameter {key}={value!r}: allowed values are {allowed}")
        kind = str(spec.get("Type", "")) if isinstance(spec, dict) else ""
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            value = [v.strip() for v in str(value).split(",")]
        values[key] = value
    return values


def load_stack(
    template_path: Path, stack: str, overrides: dict[str, str], region: str, account_id: str
) -> Stack:
    try:
        template = load_template(template_path)
        parameters = _parameters(template, overrides)
        translated = to_cloudformation(
            template, parameters, template_path.resolve().parent, region, account_id, stack
        )
        cfn = translated.template
        pseudo = {
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::StackName": stack,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack}/lambkin",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }
        resources = model.read_resources(cfn)
        scope = Scope(
            {**parameters, **pseudo},
            resources=frozenset(r.logical_id for r in resources),
            mappings=cfn.get("Mappings") or {},
        )
        scope.conditions = evaluate_conditions(cfn.get("Conditions") or {}, scope)
        model.deploy_order(resources)  # a cycle is refused before anything is asked of the server
    except (TemplateError, IntrinsicError) as exc:
        raise StackError(str(exc)) from None
    return Stack(stack, resources, scope, translated.local_code)


def lambda_client(endpoint: str, region: str) -> Any:
    session = botocore.session.Session()
    credentials = session.get_credentials()
    config = Config(
        retries={"max_attempts": 2, "mode": "standard"},
        **({} if credentials else {"signature_version": UNSIGNED}),
    )
    return session.create_client("lambda", region_name=region, endpoint_url=endpoint, config=config)


def run(
    stack: Stack,
    client: Any,
    apply: bool,
    say: Callable[[str], None],
    hot_reload: bool = False,
) -> list[Change]:
    """Plan (apply=False) or deploy (apply=True) the stack's resources; with `hot_reload`, the
    functions' local folders are their code, live (the server must allow them)."""
    scope = Scope(
        dict(stack.scope.parameters),
        dict(stack.scope.conditions),
        resources=stack.scope.resources,
        mappings=stack.scope.mappings,
    )
    region = str(scope.parameters["AWS::Region"])
    account = str(scope.parameters["AWS::AccountId"])
    walk = Walk(
        client, stack.name, region, account, scope, dict(stack.local_code), apply, say, hot_reload
    )
    try:
        return walk_resources(stack.resources, walk)
    except (TemplateError, IntrinsicError, DeployError) as exc:
        raise StackError(str(exc)) from None


def delete(stack: Stack, client: Any, say: Callable[[str], None]) -> list[str]:
    """Remove what the template made: its functions (their versions, aliases, URLs and
    permissions go with them) and every version of its layers. Returns what was removed."""
    removed: list[str] = []
    plan = run(stack, client, apply=False, say=say)
    names = {c.logical_id: c.detail.split(":", 1)[0] for c in plan}
    for resource in reversed(model.deploy_order(stack.resources)):
        if resource.type == model.FUNCTION:
            name = names.get(resource.logical_id, "")
            tags = _tags_of(client, stack, name)
            if tags is None:
                continue
            if tags.get(STACK_TAG) != stack.name:
                owner = tags.get(STACK_TAG)
                say(f"left function {name}: stack {owner!r} made it, not {stack.name!r}")
                continue
            say(f"deleting function {name}")
            client.delete_function(FunctionName=name)
            removed.append(f"function {name}")
        elif resource.type == model.LAYER:
            layer_name = resource.properties.get("LayerName")
            name = (
                layer_name
                if isinstance(layer_name, str)
                else model.physical_name(stack.name, resource.logical_id, 140)
            )
            versions = client.list_layer_versions(LayerName=name).get("LayerVersions", [])
            for version in versions:
                say(f"deleting layer {name} version {version['Version']}")
                client.delete_layer_version(LayerName=name, VersionNumber=version["Version"])
                removed.append(f"layer {name}:{version['Version']}")
    return removed


def _tags_of(client: Any, stack: Stack, name: str) -> dict[str, str] | None:
    try:
        found = client.get_function(FunctionName=name)
    except client.exceptions.ResourceNotFoundException:
        return None
    tags: dict[str, str] = found.get("Tags") or {}
    return tags
