"""Function URL configuration routes (Create/Get/Update/Delete/ListFunctionUrlConfig(s)) and the
resource-based policy routes (AddPermission, GetPolicy, RemovePermission)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from .deps import Services, parse_json_object, read_body, services
from .responses import json_response, no_content

router = APIRouter()

URL = "/2021-10-31/functions/{function_name}/url"
POLICY = "/2015-03-31/functions/{function_name}/policy"
MAX_BODY = 64 * 1024


async def _body(request: Request) -> dict[str, object]:
    return parse_json_object(await read_body(request, MAX_BODY, "Request body too large."))


def _given(body: dict[str, object]) -> tuple[str, ...]:
    """Create and Update answer the optional members the request set (and the times)."""
    return (*(k for k in ("Cors", "InvokeMode") if k in body), "LastModifiedTime")


@router.post(URL, status_code=201)
async def create_function_url_config(
    function_name: str,
    request: Request,
    Qualifier: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    body = await _body(request)
    config = svc.urls.create(function_name, Qualifier, body)
    given = tuple(k for k in ("Cors", "InvokeMode") if k in body)
    return json_response(svc.urls.render(config, given), 201)


@router.get(URL)
async def get_function_url_config(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> JSONResponse:
    return json_response(svc.urls.render(svc.urls.get(function_name, Qualifier)))


@router.put(URL)
async def update_function_url_config(
    function_name: str,
    request: Request,
    Qualifier: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    body = await _body(request)
    config = svc.urls.update(function_name, Qualifier, body)
    return json_response(svc.urls.render(config, _given(body)))


@router.delete(URL, status_code=204)
async def delete_function_url_config(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> Response:
    svc.urls.delete(function_name, Qualifier)
    return no_content()


@router.get("/2021-10-31/functions/{function_name}/urls")
async def list_function_url_configs(
    function_name: str,
    Marker: str | None = None,
    MaxItems: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    return json_response(svc.urls.list_configs(function_name, Marker, MaxItems))


@router.post(POLICY, status_code=201)
async def add_permission(
    function_name: str,
    request: Request,
    Qualifier: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    statement = svc.urls.add_permission(function_name, Qualifier, await _body(request))
    return json_response({"Statement": json.dumps(statement)}, 201)


@router.get(POLICY)
async def get_policy(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> JSONResponse:
    policy = svc.urls.get_policy(function_name, Qualifier)
    document = {"Version": "2012-10-17", "Id": "default", "Statement": policy.statements}
    return json_response({"Policy": json.dumps(document), "RevisionId": policy.revision_id})


@router.delete(POLICY + "/{statement_id}", status_code=204)
async def remove_permission(
    function_name: str,
    statement_id: str,
    Qualifier: str | None = None,
    RevisionId: str | None = None,
    svc: Services = Depends(services),
) -> Response:
    svc.urls.remove_permission(function_name, statement_id, Qualifier, RevisionId)
    return no_content()
