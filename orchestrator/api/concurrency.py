"""Concurrency routes: reserved concurrency and provisioned concurrency configs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ..arns import parse_function_ref
from .deps import Services, parse_json_object, read_body, services
from .responses import json_response, no_content

router = APIRouter()
SMALL_BODY = 64 * 1024


async def _body(request: Request) -> dict[str, Any]:
    return parse_json_object(await read_body(request, SMALL_BODY, "Request body too large."))


@router.put("/2017-10-31/functions/{function_name}/concurrency")
async def put_function_concurrency(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    return json_response(
        svc.scaling.put_reserved(parse_function_ref(function_name), await _body(request))
    )


@router.get("/2019-09-30/functions/{function_name}/concurrency")
async def get_function_concurrency(
    function_name: str, svc: Services = Depends(services)
) -> JSONResponse:
    return json_response(svc.scaling.get_reserved(parse_function_ref(function_name)))


@router.delete("/2017-10-31/functions/{function_name}/concurrency")
async def delete_function_concurrency(
    function_name: str, svc: Services = Depends(services)
) -> Response:
    svc.scaling.delete_reserved(parse_function_ref(function_name))
    return no_content()


@router.put("/2019-09-30/functions/{function_name}/provisioned-concurrency")
async def put_provisioned_concurrency_config(
    function_name: str,
    request: Request,
    Qualifier: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    body = await _body(request)
    return json_response(
        svc.scaling.put_provisioned(parse_function_ref(function_name), Qualifier, body), 202
    )


@router.get("/2019-09-30/functions/{function_name}/provisioned-concurrency")
async def get_provisioned_concurrency_config(
    function_name: str,
    Qualifier: str | None = None,
    List: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    """GetProvisionedConcurrencyConfig, or with `List=ALL` ListProvisionedConcurrencyConfigs
    (the same path)."""
    ref = parse_function_ref(function_name)
    if List == "ALL":
        return json_response(svc.scaling.list_provisioned(ref))
    return json_response(svc.scaling.get_provisioned(ref, Qualifier))


@router.delete("/2019-09-30/functions/{function_name}/provisioned-concurrency")
async def delete_provisioned_concurrency_config(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> Response:
    svc.scaling.delete_provisioned(parse_function_ref(function_name), Qualifier)
    return no_content()
