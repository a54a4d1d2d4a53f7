"""Lambkin's own routes for asynchronous invocation: the dead-letter store, its replay, and
the queue's status."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from ..arns import parse_function_ref
from .deps import Services, parse_json_object, read_body, services
from .responses import json_response

router = APIRouter()


@router.get("/lambkin/dlq/{function_name}")
async def list_dead_letters(function_name: str, svc: Services = Depends(services)) -> JSONResponse:
    config = svc.functions.require(parse_function_ref(function_name))
    events = await asyncio.to_thread(svc.queue.dead_letters, config.name)
    return json_response({"Events": [e.describe() for e in events]})


@router.post("/lambkin/dlq/{function_name}/replay")
async def replay_dead_letters(
    function_name: str, request: Request, svc: Services = Depends(services)
) -> JSONResponse:
    config = svc.functions.require(parse_function_ref(function_name))
    body = parse_json_object(await read_body(request, 1024 * 1024, "Request body too large."))
    request_ids = body.get("RequestIds") or None
    replayed = await asyncio.to_thread(svc.queue.replay, config.name, request_ids)
    await svc.dispatcher.enqueue_wakeup()
    return json_response({"Replayed": replayed})


@router.get("/lambkin/async")
async def async_status(svc: Services = Depends(services)) -> JSONResponse:
    return json_response({"QueueDepth": await svc.dispatcher.depth(), **svc.dispatcher.stats})
