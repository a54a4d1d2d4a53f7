"""Concurrency routes (reserved and provisioned) and tag routes."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from ..arns import parse_function_ref
from .deps import Services, parse_json_object, read_body, services

router = APIRouter()
SMALL_BODY = 64 * 1024


def _json(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"x-amzn-RequestId": str(uuid.uuid4())})


def _no_content() -> Response:
    return Response(status_code=204, headers={"x-amzn-RequestId": str(uuid.uuid4())})


async def _body(request: Request) -> dict[str, Any]:
    return parse_json_object(await read_body(request, SMALL_BODY, "Request body too large."))


@router.put("/2017-10-31/functions/{function_name}/concurrency")
async def put_function_concurrency(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    return _json(svc.scaling.put_reserved(parse_function_ref(function_name), await _body(request)))


@router.get("/2019-09-30/functions/{function_name}/concurrency")
async def get_function_concurrency(
    function_name: str, svc: Services = Depends(services)
) -> JSONResponse:
    return _json(svc.scaling.get_reserved(parse_function_ref(function_name)))


@router.delete("/2017-10-31/functions/{function_name}/concurrency")
async def delete_function_concurrency(
    function_name: str, svc: Services = Depends(services)
) -> Response:
    svc.scaling.delete_reserved(parse_function_ref(function_name))
    return _no_content()


@router.put("/2019-09-30/functions/{function_name}/provisioned-concurrency")
async def put_provisioned_concurrency_config(
    function_name: str,
    request: Request,
    Qualifier: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    body = await _body(request)
    return _json(
        svc.scaling.put_provisioned(parse_function_ref(function_name), Qualifier, body), 202
    )


@router.get("/2019-09-30/functions/{function_name}/provisioned-concurrency")
async def get_provisioned_concurrency_config(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> JSONResponse:
    return _json(svc.scaling.get_provisioned(parse_function_ref(function_name), Qualifier))


@router.delete("/2019-09-30/functions/{function_name}/provisioned-concurrency")
async def delete_provisioned_concurrency_config(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> Response:
    svc.scaling.delete_provisioned(parse_function_ref(function_name), Qualifier)
    return _no_content()


@router.post("/2017-03-31/tags/{arn}")
async def tag_resource(arn: str, request: Request, svc: Services = Depends(services)) -> Response:
    svc.functions.tag(arn, await _body(request))
    return _no_content()


@router.delete("/2017-03-31/tags/{arn}")
async def untag_resource(
    arn: str, tagKeys: list[str] = Query(default=[]), svc: Services = Depends(services)
) -> Response:
    svc.functions.untag(arn, tagKeys)
    return _no_content()


@router.get("/2017-03-31/tags/{arn}")
async def list_tags(arn: str, svc: Services = Depends(services)) -> JSONResponse:
    return _json({"Tags": svc.functions.tags(arn)})
