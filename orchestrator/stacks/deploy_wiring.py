"""The resources around a function: versions, aliases (with provisioned concurrency), URLs,
permissions, asynchronous-invocation settings, and the IAM roles Lambkin accepts without
creating (its roles and their permissions live in its credentials file)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import stack_model as model
from .deploy_walk import Change, Walk, call, get


def _function_of(reference: str) -> tuple[str, str | None]:
    """A FunctionName (a name, or a function / version / alias ARN) -> (name, qualifier)."""
    if reference.startswith("arn:"):
        parts = reference.split(":")
        return parts[6], parts[7] if len(parts) > 7 else None
    name, _, qualifier = reference.partition(":")
    return name, qualifier or None


@dataclass(frozen=True)
class Target:
    """The function (and qualifier) a resource acts on, as API arguments and as a label."""

    name: str
    qualifier: str | None

    @classmethod
    def of(cls, props: dict[str, Any], key: str) -> Target:
        name, qualifier = _function_of(str(props[key]))
        return cls(name, str(props["Qualifier"]) if props.get("Qualifier") else qualifier)

    @property
    def arguments(self) -> dict[str, str]:
        # $LATEST is the unqualified function (the API refuses it as a qualifier of some calls)
        if self.qualifier is None or self.qualifier == "$LATEST":
            return {"FunctionName": self.name}
        return {"FunctionName": self.name, "Qualifier": self.qualifier}

    @property
    def label(self) -> str:
        return self.name + (f":{self.qualifier}" if self.qualifier else "")


def deploy_version(resource: model.StackResource, props: dict[str, Any], walk: Walk) -> None:
    name, _ = _function_of(str(props["FunctionName"]))
    listed = get(walk.client.list_versions_by_function, FunctionName=name) or {}
    versions = listed.get("Versions", [])
    published = [v for v in versions if v["Version"] != "$LATEST"]
    function_changed = any(walk.scope.refs.get(logical) == name for logical in walk.changed)
    if published and not function_changed:
        last = max(published, key=lambda v: int(v["Version"]))
        _version_scope(resource, walk, name, last["Version"])
        walk.record(
            Change(resource.logical_id, resource.type, "unchanged", f"{name}:{last['Version']}")
        )
        return
    number = str(max((int(v["Version"]) for v in published), default=0) + 1)
    if walk.apply:
        walk.say(f"publishing a version of {name}")
        number = call(
            f"publish a version of {name}",
            walk.client.publish_version,
            FunctionName=name,
            **({"Description": props["Description"]} if "Description" in props else {}),
        )["Version"]
    _version_scope(resource, walk, name, number)
    walk.record(Change(resource.logical_id, resource.type, "create", f"{name}:{number}"))


def _version_scope(resource: model.StackResource, walk: Walk, name: str, number: str) -> None:
    arn = walk.arn("function", f"{name}:{number}")
    walk.scope.refs[resource.logical_id] = arn
    walk.scope.attributes[resource.logical_id] = {"Version": number, "FunctionArn": arn}


def deploy_alias(resource: model.StackResource, props: dict[str, Any], walk: Walk) -> None:
    name, _ = _function_of(str(props["FunctionName"]))
    alias = str(props["Name"])
    arn = walk.arn("function", f"{name}:{alias}")
    walk.scope.refs[resource.logical_id] = arn
    walk.scope.attributes[resource.logical_id] = {"AliasArn": arn}
    desired = {"FunctionVersion": str(props["FunctionVersion"])}
    if "RoutingConfig" in props:
        desired["RoutingConfig"] = props["RoutingConfig"]
    if "Description" in props:
        desired["Description"] = props["Description"]
    current = get(walk.client.get_alias, FunctionName=name, Name=alias)
    provisioned = (props.get("ProvisionedConcurrencyConfig") or {}).get(
        "ProvisionedConcurrentExecutions"
    )
    what = []
    if current is None:
        action = "create"
    else:
        what = [k for k, v in desired.items() if current.get(k) != v]
        action = "update" if what else "unchanged"
    if provisioned is not None:
        have = (
            get(walk.client.get_provisioned_concurrency_config, FunctionName=name, Qualifier=alias)
            if current
            else None
        )
        if (have or {}).get("RequestedProvisionedConcurrentExecutions") != int(provisioned):
            what.append("ProvisionedConcurrency")
            action = action if action == "create" else "update"
    walk.record(
        Change(
            resource.logical_id,
            resource.type,
            action,
            f"{name}:{alias}" + (f": {', '.join(what)}" if what else ""),
        )
    )
    if not walk.apply or action == "unchanged":
        return
    walk.say(f"{'creating' if current is None else 'updating'} alias {name}:{alias}")
    if current is None:
        call(
            f"create alias {alias}",
            walk.client.create_alias,
            FunctionName=name,
            Name=alias,
            **desired,
        )
    elif any(k != "ProvisionedConcurrency" for k in what):
        call(
            f"update alias {alias}",
            walk.client.update_alias,
            FunctionName=name,
            Name=alias,
            **desired,
        )
    if provisioned is not None and (current is None or "ProvisionedConcurrency" in what):
        call(
            f"provisioned concurrency of {alias}",
            walk.client.put_provisioned_concurrency_config,
            FunctionName=name,
            Qualifier=alias,
            ProvisionedConcurrentExecutions=int(provisioned),
        )


def deploy_url(resource: model.StackResource, props: dict[str, Any], walk: Walk) -> None:
    target = Target.of(props, "TargetFunctionArn")
    desired = {"AuthType": props.get("AuthType", "AWS_IAM")}
    for key in ("Cors", "InvokeMode"):
        if key in props:
            desired[key] = props[key]
    current = get(walk.client.get_function_url_config, **target.arguments)
    label = target.label
    if current is not None:
        walk.scope.attributes[resource.logical_id] = {
            "FunctionUrl": current["FunctionUrl"],
            "FunctionArn": current["FunctionArn"],
        }
        what = [k for k, v in desired.items() if current.get(k) != v]
        walk.record(
            Change(
                resource.logical_id,
                resource.type,
                "update" if what else "unchanged",
                label + (f": {', '.join(what)}" if what else ""),
            )
        )
        if what and walk.apply:
            walk.say(f"updating the URL of {label}")
            call(
                f"update the URL of {label}",
                walk.client.update_function_url_config,
                **target.arguments,
                **desired,
            )
        return
    walk.record(Change(resource.logical_id, resource.type, "create", label))
    url = f"(the URL of {label})"
    if walk.apply:
        walk.say(f"creating the URL of {label}")
        url = call(
            f"create the URL of {label}",
            walk.client.create_function_url_config,
            **target.arguments,
            **desired,
        )["FunctionUrl"]
    walk.scope.attributes[resource.logical_id] = {
        "FunctionUrl": url,
        "FunctionArn": walk.arn("function", label),
    }


_PERMISSION_KEYS = (
    "Action",
    "Principal",
    "SourceArn",
    "SourceAccount",
    "FunctionUrlAuthType",
    "InvokedViaFunctionUrl",
    "PrincipalOrgID",
    "EventSourceToken",
)


def deploy_permission(resource: model.StackResource, props: dict[str, Any], walk: Walk) -> None:
    target = Target.of(props, "FunctionName")
    sid = resource.logical_id
    policy = get(walk.client.get_policy, **target.arguments)
    statements = json.loads(policy["Policy"])["Statement"] if policy else []
    label = f"{target.label} {sid}"
    if any(s.get("Sid") == sid for s in statements):
        walk.record(Change(resource.logical_id, resource.type, "unchanged", label))
        return
    walk.record(Change(resource.logical_id, resource.type, "create", label))
    if walk.apply:
        walk.say(f"granting {props.get('Action')} on {label}")
        call(
            f"add permission {sid}",
            walk.client.add_permission,
            StatementId=sid,
            **target.arguments,
            **{k: props[k] for k in _PERMISSION_KEYS if k in props},
        )


def deploy_event_invoke_config(
    resource: model.StackResource, props: dict[str, Any], walk: Walk
) -> None:
    target = Target.of(props, "FunctionName")
    desired: dict[str, Any] = {
        k: props[k] for k in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds") if k in props
    }
    if props.get("DestinationConfig"):
        desired["DestinationConfig"] = props["DestinationConfig"]
    current = get(walk.client.get_function_event_invoke_config, **target.arguments)
    label = target.label
    if current is not None and all(current.get(k) == v for k, v in desired.items()):
        walk.record(Change(resource.logical_id, resource.type, "unchanged", label))
        return
    walk.record(
        Change(resource.logical_id, resource.type, "create" if current is None else "update", label)
    )
    if walk.apply:
        walk.say(f"setting the asynchronous invocation of {label}")
        call(
            f"event invoke config of {label}",
            walk.client.put_function_event_invoke_config,
            **target.arguments,
            **desired,
        )


def accept_role(resource: model.StackResource, props: dict[str, Any], walk: Walk) -> None:
    name = props.get("RoleName") or model.physical_name(walk.stack, resource.logical_id)
    arn = f"arn:aws:iam::{walk.account_id}:role/{name}"
    walk.scope.refs[resource.logical_id] = name
    walk.scope.attributes[resource.logical_id] = {"Arn": arn, "RoleId": name}
    walk.record(
        Change(
            resource.logical_id,
            resource.type,
            "not created",
            f"{arn}: give it permissions in Lambkin's credentials file",
        )
    )
