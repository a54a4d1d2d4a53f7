"""Management routes: CreateFunction, GetFunction, ListFunctions, updates, DeleteFunction."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse

from ..arns import parse_function_ref
from ..errors import constraint, not_found
from .deps import Services, parse_json_object, read_body, services
from .responses import json_response, no_content

router = APIRouter()

PREFIX = "/2015-03-31/functions"
# A 50 MB zip is about 67 MB once base64-encoded inside the JSON body.
MAX_CODE_REQUEST = 70 * 1024 * 1024
TOO_LARGE_CODE = (
    "Zipped file size exceeds the maximum allowed size of 52428800 bytes for direct upload."
)


@router.post(PREFIX, status_code=201)
@router.post(PREFIX + "/", status_code=201, include_in_schema=False)
async def create_function(request: Request, svc: Services = Depends(services)) -> JSONResponse:
    body = parse_json_object(await read_body(request, MAX_CODE_REQUEST, TOO_LARGE_CODE))
    config = await svc.functions.create(body)
    return json_response(svc.functions.render(config, "created"), 201)


@router.get(PREFIX + "/")
@router.get(PREFIX, include_in_schema=False)
async def list_functions(
    Marker: str | None = None,
    MaxItems: str | None = None,
    FunctionVersion: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    if FunctionVersion not in (None, "ALL"):
        raise constraint(
            FunctionVersion, "functionVersion", "Member must satisfy enum value set: [ALL]"
        )
    return json_response(
        svc.functions.list_page(Marker, MaxItems, all_versions=FunctionVersion == "ALL")
    )


@router.get(PREFIX + "/{function_name}")
async def get_function(
    function_name: str,
    request: Request,
    Qualifier: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    config = svc.functions.require(parse_function_ref(function_name, Qualifier))
    location = str(request.url_for("download_code", sha=config.code_sha256_hex))
    body: dict[str, Any] = {
        "Configuration": svc.functions.render(config),
        "Code": config.render_code(location),
    }
    tags = svc.functions.require(parse_function_ref(config.name)).tags  # the function's own
    if tags:  # AWS leaves the key out when there are none
        body["Tags"] = dict(tags)
    concurrency = svc.scaling.get_reserved(parse_function_ref(config.name))
    if concurrency:
        body["Concurrency"] = concurrency
    return json_response(body)


@router.get(PREFIX + "/{function_name}/configuration")
async def get_function_configuration(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> JSONResponse:
    config = svc.functions.require(parse_function_ref(function_name, Qualifier))
    return json_response(svc.functions.render(config))


@router.post(PREFIX + "/{function_name}/versions", status_code=201)
async def publish_version(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    body = parse_json_object(await read_body(request, 1024 * 1024, "Request body too large."))
    config = await svc.functions.publish_version(parse_function_ref(function_name), body)
    return json_response(svc.functions.render(config), 201)


@router.get(PREFIX + "/{function_name}/versions")
async def list_versions_by_function(
    function_name: str,
    Marker: str | None = None,
    MaxItems: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    ref = parse_function_ref(function_name)
    return json_response(svc.functions.list_versions(ref, Marker, MaxItems))


@router.put(PREFIX + "/{function_name}/code")
async def update_function_code(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    body = parse_json_object(await read_body(request, MAX_CODE_REQUEST, TOO_LARGE_CODE))
    config = await svc.functions.update_code(parse_function_ref(function_name), body)
    return json_response(svc.functions.render(config, "read" if config.is_published else "updated"))


@router.put(PREFIX + "/{function_name}/configuration")
async def update_function_configuration(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    body = parse_json_object(await read_body(request, 1024 * 1024, "Request body too large."))
    config = await svc.functions.update_configuration(parse_function_ref(function_name), body)
    return json_response(svc.functions.render(config, "updated"))


@router.delete(PREFIX + "/{function_name}", status_code=204)
async def delete_function(
    function_name: str, Qualifier: str | None = None, svc: Services = Depends(services)
) -> Response:
    await svc.functions.delete(parse_function_ref(function_name, Qualifier))
    return no_content()


@router.get("/2016-08-19/account-settings")
@router.get("/2016-08-19/account-settings/", include_in_schema=False)
async def get_account_settings(svc: Services = Depends(services)) -> JSONResponse:
    limit = svc.settings.concurrency_limit
    return json_response(svc.functions.account_settings(limit, svc.scaling.unreserved()))


@router.get("/lambkin/code/{sha}.zip", name="download_code")
async def download_code(sha: str, svc: Services = Depends(services)) -> FileResponse:
    """Where GetFunction's Code.Location (and a layer version's Content.Location) points: the
    stored zip, while a function, a version or a layer version holds it."""
    path = svc.settings.code_dir / "zips" / f"{sha}.zip"
    in_use = svc.registry.code_in_use() | svc.layers.code_in_use()
    if sha not in in_use or not path.is_file():  # (an image has no zip)
        raise not_found(f"No stored code with SHA-256 {sha}")
    return FileResponse(path, media_type="application/zip")
