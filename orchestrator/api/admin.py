"""Lambkin's own routes: health and instance listing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from .deps import Services, services

router = APIRouter()


@router.get("/healthz")
async def healthz(svc: Services = Depends(services)) -> dict[str, Any]:
    return {
        "status": "ok",
        "driver": svc.driver.name,
        "server_id": svc.pool.server_id,
        "functions": len(svc.registry.names()),
        "runtimes": svc.driver.available_runtimes(),
    }


@router.get("/lambkin/instances")
async def list_instances(function: str | None = None, svc: Services = Depends(services)) -> dict[str, Any]:
    return {"Instances": [i.describe() for i in svc.pool.instances(function)]}
