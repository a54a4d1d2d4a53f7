"""Tag routes: TagResource, UntagResource, ListTags."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from .deps import Services, parse_json_object, read_body, services
from .responses import json_response, no_content

router = APIRouter()
SMALL_BODY = 64 * 1024


@router.post("/2017-03-31/tags/{arn}")
async def tag_resource(arn: str, request: Request, svc: Services = Depends(services)) -> Response:
    svc.functions.tag(
        arn, parse_json_object(await read_body(request, SMALL_BODY, "Request body too large."))
    )
    return no_content()


@router.delete("/2017-03-31/tags/{arn}")
async def untag_resource(
    arn: str, tagKeys: list[str] = Query(default=[]), svc: Services = Depends(services)
) -> Response:
    svc.functions.untag(arn, tagKeys)
    return no_content()


@router.get("/2017-03-31/tags/{arn}")
async def list_tags(arn: str, svc: Services = Depends(services)) -> JSONResponse:
    return json_response({"Tags": svc.functions.tags(arn)})
