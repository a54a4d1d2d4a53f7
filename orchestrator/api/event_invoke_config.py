"""Asynchronous invocation settings: Put/Update/Get/List/DeleteFunctionEventInvokeConfig, one
per qualifier (the function's $LATEST, a version or an alias), as on AWS."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ..arns import LATEST, parse_function_ref
from ..errors import LambdaError, LambdaErrorCode, not_found
from ..event_config import (
    EVENT_CONFIG_SETTING,
    EventInvokeConfig,
    event_config_setting,
    parse,
    require_setting,
)
from .deps import Services, parse_json_object, read_body, services
from .responses import json_response, no_content

router = APIRouter()
PREFIX = "/2019-09-25/functions/{function_name}/event-invoke-config"


@dataclass(frozen=True)
class _Target:
    """A qualified reference's function, its setting's key, and the ARNs the answers name."""

    name: str
    qualifier: str | None  # None: $LATEST
    key: str
    arn: str  # the function's, unqualified

    def render(self, settings: EventInvokeConfig) -> dict[str, Any]:
        return settings.render(self.arn, self.qualifier)

    def missing(self) -> Exception:
        return _no_config(self.arn, self.qualifier)


def _no_config(arn: str, qualifier: str | None) -> Exception:
    return not_found(f"The function {arn}:{qualifier or LATEST} doesn't have an EventInvokeConfig")


FUNCTION_MISSING = "The function doesn't exist."


def _target(
    svc: Services, function_name: str, qualifier: str | None, reading: bool = False
) -> _Target:
    """The version or alias must exist: AWS says the function doesn't exist when writing,
    that it has no config when reading or deleting."""
    ref = parse_function_ref(function_name, qualifier)
    q = None if ref.qualifier in (None, LATEST) else ref.qualifier
    try:
        config = svc.functions.require(ref)
    except LambdaError as exc:
        if exc.code is not LambdaErrorCode.RESOURCE_NOT_FOUND or ref.region not in (
            None,
            svc.settings.region,
        ):
            raise
        if reading:
            raise _no_config(svc.functions.arn(ref.name), q) from None
        raise not_found(FUNCTION_MISSING) from None
    return _Target(config.name, q, event_config_setting(q), svc.functions.arn(config.name))


async def _store(
    function_name: str, qualifier: str | None, request: Request, svc: Services, replace: bool
) -> JSONResponse:
    body = parse_json_object(await read_body(request, 64 * 1024, "Request body too large."))
    require_setting(body)
    target = _target(svc, function_name, qualifier)
    current = svc.registry.setting(target.name, target.key)
    if not replace and current is None:
        raise target.missing()
    base = None if replace or current is None else EventInvokeConfig.from_json(current)
    settings = parse(body, lambda other: svc.registry.get(other) is not None, base, target.name)
    svc.registry.set_setting(target.name, target.key, settings.to_json())
    return json_response(target.render(settings))


@router.put(PREFIX)
async def put_function_event_invoke_config(
    function_name: str,
    request: Request,
    Qualifier: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    return await _store(function_name, Qualifier, request, svc, replace=True)


@router.post(PREFIX)
async def update_function_event_invoke_config(
    function_name: str,
    request: Request,
    Qualifier: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    return await _store(function_name, Qualifier, request, svc, replace=False)


@router.get(PREFIX)
async def get_function_event_invoke_config(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> JSONResponse:
    target = _target(svc, function_name, Qualifier, reading=True)
    stored = svc.registry.setting(target.name, target.key)
    if stored is None:
        raise target.missing()
    return json_response(target.render(EventInvokeConfig.from_json(stored)))


@router.get(PREFIX + "/list")
async def list_function_event_invoke_configs(
    function_name: str, svc: Services = Depends(services)
) -> JSONResponse:
    config = _target(svc, function_name, None)
    configs = []
    for key, stored in sorted(svc.registry.settings_of(config.name).items()):
        if key != EVENT_CONFIG_SETTING and not key.startswith(EVENT_CONFIG_SETTING + ":"):
            continue
        qualifier = key.partition(":")[2] or None
        arn = svc.functions.arn(config.name)
        configs.append(EventInvokeConfig.from_json(stored).render(arn, qualifier))
    return json_response({"FunctionEventInvokeConfigs": configs})


@router.delete(PREFIX)
async def delete_function_event_invoke_config(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> Response:
    target = _target(svc, function_name, Qualifier, reading=True)
    if svc.registry.setting(target.name, target.key) is None:
        raise target.missing()
    svc.registry.set_setting(target.name, target.key, None)
    return no_content()
