"""Lambkin's own routes: health, instance and vacancy listings."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends

from ..agent_client import probe_health
from ..instance import State
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
async def list_instances(
    function: str | None = None, svc: Services = Depends(services)
) -> dict[str, Any]:
    """Every instance with its state, age, invocations served, memory and connections accepted
    (asked of its agent, with the instance's token: nobody else can ask it)."""
    instances = svc.pool.instances(function)
    # Only live instances are probed: connecting to the address of a container being removed
    # leaves an unresolved ARP entry that delays the next container given that address by ~1 s.
    health = await asyncio.gather(
        *(
            probe_health(i.handle.host, i.handle.port, i.handle.token, i.handle.dial)
            if i.handle and i.live and i.state is not State.STARTING
            else _none()
            for i in instances
        )
    )
    described = []
    for instance, probe in zip(instances, health, strict=True):
        entry = instance.describe()
        entry["Node"] = svc.pool.node_of(instance) or None  # drivers of several machines
        entry["MaxMemoryUsedMB"] = probe.get("max_memory_mb") if probe else None
        # Connections the agent accepted, this probe's own included (one more per listing).
        entry["AgentConnections"] = probe.get("connections_accepted") if probe else None
        described.append(entry)
    return {"Instances": described}


@router.get("/lambkin/vacancies")
async def list_vacancies(svc: Services = Depends(services)) -> dict[str, Any]:
    """Vacant instances by shape (runtime, memory, /tmp): those ready, those starting, and the
    recent cold starts that keep them (vacancy_policy.py)."""
    vacancies = svc.pool.vacancies
    return {
        "Enabled": vacancies.enabled,
        "Taken": vacancies.handed_out,
        "Shapes": vacancies.describe(),
    }


async def _none() -> None:
    return None
