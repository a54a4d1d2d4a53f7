"""Deploying a template's resources through the Lambda API, in dependency order, each by the
handler of its type (`deploy_code`, `deploy_wiring`); a type without one is listed as not
created, and a reference to it evaluates to its logical id."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import stack_model as model
from .deploy_code import deploy_function, deploy_layer
from .deploy_walk import Change, Walk
from .deploy_wiring import (
    accept_role,
    deploy_alias,
    deploy_event_invoke_config,
    deploy_permission,
    deploy_url,
    deploy_version,
)
from .intrinsics import REMOVED, evaluate

HANDLERS: dict[str, Callable[[model.StackResource, dict[str, Any], Walk], None]] = {
    model.FUNCTION: deploy_function,
    model.LAYER: deploy_layer,
    model.VERSION: deploy_version,
    model.ALIAS: deploy_alias,
    model.URL: deploy_url,
    model.PERMISSION: deploy_permission,
    model.EVENT_INVOKE_CONFIG: deploy_event_invoke_config,
    model.ROLE: accept_role,
}


def walk_resources(resources: list[model.StackResource], walk: Walk) -> list[Change]:
    for resource in model.deploy_order(resources):
        if resource.condition and not walk.scope.conditions.get(resource.condition, False):
            continue
        handler = HANDLERS.get(resource.type)
        if handler is None:
            walk.scope.refs[resource.logical_id] = resource.logical_id
            walk.record(
                Change(
                    resource.logical_id,
                    resource.type,
                    "not created",
                    "Lambkin creates Lambda resources only",
                )
            )
            continue
        props = evaluate(resource.properties, walk.scope)
        if props is REMOVED or not isinstance(props, dict):
            props = {}
        handler(resource, props, walk)
    return walk.changes
