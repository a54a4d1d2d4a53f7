"""Alias routes: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ..arns import parse_function_ref
from .deps import Services, parse_json_object, read_body, services
from .responses import json_response, no_content

router = APIRouter()

ALIASES = "/2015-03-31/functions/{function_name}/aliases"
MAX_BODY = 64 * 1024


@router.post(ALIASES, status_code=201)
async def create_alias(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    body = parse_json_object(await read_body(request, MAX_BODY, "Request body too large."))
    ref = parse_function_ref(function_name)
    alias = svc.aliases.create(ref, body)
    return json_response(svc.aliases.render(ref.name, alias), 201)


@router.get(ALIASES)
async def list_aliases(
    function_name: str,
    FunctionVersion: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    ref = parse_function_ref(function_name)
    found = svc.aliases.list(ref, FunctionVersion)
    return json_response({"Aliases": [svc.aliases.render(ref.name, a) for a in found]})


@router.get(ALIASES + "/{name}")
async def get_alias(
    function_name: str, name: str, svc: Services = Depends(services)
) -> JSONResponse:
    ref = parse_function_ref(function_name)
    return json_response(svc.aliases.render(ref.name, svc.aliases.get(ref, name)))


@router.put(ALIASES + "/{name}")
async def update_alias(
    function_name: str, name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    body = parse_json_object(await read_body(request, MAX_BODY, "Request body too large."))
    ref = parse_function_ref(function_name)
    return json_response(svc.aliases.render(ref.name, svc.aliases.update(ref, name, body)))


@router.delete(ALIASES + "/{name}", status_code=204)
async def delete_alias(
    function_name: str, name: str, svc: Services = Depends(services)
) -> Response:
    svc.aliases.delete(parse_function_ref(function_name), name)
    return no_content()
