"""Asynchronous invocation settings: Put/Update/Get/List/DeleteFunctionEventInvokeConfig."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ..arns import parse_function_ref
from ..dispatcher import EVENT_CONFIG_SETTING
from ..errors import not_found
from ..event_config import EventInvokeConfig, parse
from .deps import Services, parse_json_object, read_body, services
from .responses import json_response, no_content

router = APIRouter()
PREFIX = "/2019-09-25/functions/{function_name}/event-invoke-config"


async def _store(
    function_name: str, request: Request, svc: Services, replace: bool
) -> JSONResponse:
    config = svc.functions.require(parse_function_ref(function_name))
    body = parse_json_object(await read_body(request, 64 * 1024, "Request body too large."))
    current = svc.registry.setting(config.name, EVENT_CONFIG_SETTING)
    base = None if replace or current is None else EventInvokeConfig.from_json(current)
    settings = parse(body, lambda name: svc.registry.get(name) is not None, base)
    svc.registry.set_setting(config.name, EVENT_CONFIG_SETTING, settings.to_json())
    return json_response(settings.render(svc.functions.arn(config.name)))


@router.put(PREFIX)
async def put_function_event_invoke_config(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    return await _store(function_name, request, svc, replace=True)


@router.post(PREFIX)
async def update_function_event_invoke_config(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    return await _store(function_name, request, svc, replace=False)


@router.get(PREFIX)
async def get_function_event_invoke_config(
    function_name: str, svc: Services = Depends(services)
) -> JSONResponse:
    config = svc.functions.require(parse_function_ref(function_name))
    stored = svc.registry.setting(config.name, EVENT_CONFIG_SETTING)
    if stored is None:
        raise not_found(
            f"The function {svc.functions.arn(config.name)} doesn't have an EventInvokeConfig"
        )
    return json_response(EventInvokeConfig.from_json(stored).render(svc.functions.arn(config.name)))


@router.get(PREFIX + "/list")
async def list_function_event_invoke_configs(
    function_name: str, svc: Services = Depends(services)
) -> JSONResponse:
    config = svc.functions.require(parse_function_ref(function_name))
    stored = svc.registry.setting(config.name, EVENT_CONFIG_SETTING)
    configs = (
        []
        if stored is None
        else [EventInvokeConfig.from_json(stored).render(svc.functions.arn(config.name))]
    )
    return json_response({"FunctionEventInvokeConfigs": configs})


@router.delete(PREFIX)
async def delete_function_event_invoke_config(
    function_name: str, svc: Services = Depends(services)
) -> Response:
    config = svc.functions.require(parse_function_ref(function_name))
    if svc.registry.setting(config.name, EVENT_CONFIG_SETTING) is None:
        raise not_found(
            f"The function {svc.functions.arn(config.name)} doesn't have an EventInvokeConfig"
        )
    svc.registry.set_setting(config.name, EVENT_CONFIG_SETTING, None)
    return no_content()
