"""Layer routes: PublishLayerVersion, GetLayerVersion(ByArn), ListLayers, ListLayerVersions,
DeleteLayerVersion, and the layer version permissions (Add/Remove/GetLayerVersionPolicy)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from ..layers import LayerVersion
from .deps import Services, parse_json_object, read_body, services
from .functions import MAX_CODE_REQUEST, TOO_LARGE_CODE
from .responses import json_response, no_content

router = APIRouter()

LAYERS = "/2018-10-31/layers"
VERSIONS = LAYERS + "/{layer_name}/versions"
VERSION = VERSIONS + "/{version}"
POLICY = VERSION + "/policy"
MAX_POLICY_BODY = 64 * 1024


def _rendered(
    request: Request, svc: Services, layer: LayerVersion, status: int = 200
) -> JSONResponse:
    location = str(request.url_for("download_code", sha=layer.code_sha256_hex))
    return json_response(svc.layers.render(layer, location), status)


@router.post(VERSIONS, status_code=201)
async def publish_layer_version(
    layer_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    body = parse_json_object(await read_body(request, MAX_CODE_REQUEST, TOO_LARGE_CODE))
    return _rendered(request, svc, await svc.layers.publish(layer_name, body), 201)


@router.get(VERSIONS)
async def list_layer_versions(
    layer_name: str,
    CompatibleRuntime: str | None = None,
    CompatibleArchitecture: str | None = None,
    Marker: str | None = None,
    MaxItems: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    return json_response(
        svc.layers.list_versions(
            layer_name, CompatibleRuntime, CompatibleArchitecture, Marker, MaxItems
        )
    )


@router.get(VERSION)
async def get_layer_version(
    layer_name: str, version: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    return _rendered(request, svc, svc.layers.get(layer_name, version))


@router.delete(VERSION, status_code=204)
async def delete_layer_version(
    layer_name: str, version: str, svc: Services = Depends(services)
) -> Response:
    svc.layers.delete(layer_name, version)
    return no_content()


@router.get(LAYERS)
@router.get(LAYERS + "/", include_in_schema=False)
async def list_layers_or_get_by_arn(
    request: Request,
    find: str | None = None,
    Arn: str | None = None,
    CompatibleRuntime: str | None = None,
    CompatibleArchitecture: str | None = None,
    Marker: str | None = None,
    MaxItems: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    """ListLayers; with `find=LayerVersion`, GetLayerVersionByArn (one path, as in AWS's model)."""
    if find == "LayerVersion":
        return _rendered(request, svc, svc.layers.get_by_arn(Arn))
    return json_response(
        svc.layers.list_layers(CompatibleRuntime, CompatibleArchitecture, Marker, MaxItems)
    )


@router.post(POLICY, status_code=201)
async def add_layer_version_permission(
    layer_name: str,
    version: str,
    request: Request,
    RevisionId: str | None = None,
    svc: Services = Depends(services),
) -> JSONResponse:
    body = parse_json_object(await read_body(request, MAX_POLICY_BODY, "Request body too large."))
    return json_response(svc.layers.add_permission(layer_name, version, body, RevisionId), 201)


@router.get(POLICY)
async def get_layer_version_policy(
    layer_name: str, version: str, svc: Services = Depends(services)
) -> JSONResponse:
    return json_response(svc.layers.get_policy(layer_name, version))


@router.delete(POLICY + "/{statement_id}", status_code=204)
async def remove_layer_version_permission(
    layer_name: str,
    version: str,
    statement_id: str,
    RevisionId: str | None = None,
    svc: Services = Depends(services),
) -> Response:
    svc.layers.remove_permission(layer_name, version, statement_id, RevisionId)
    return no_content()
