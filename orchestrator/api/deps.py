"""What routers receive through `Depends`: the services the app was built with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from ..alias_service import AliasService
from ..code_store import CodeStore
from ..dispatcher import Dispatcher
from ..drivers.base import Driver
from ..errors import LambdaError, LambdaErrorCode
from ..event_queue import EventQueue
from ..function_url_service import FunctionUrlService
from ..functions import FunctionService
from ..hot_reload import HotReload
from ..invoker import Invoker
from ..layer_service import LayerService
from ..observability import Observability
from ..pool import Pool
from ..registry import Registry
from ..scaling import ScalingService
from ..settings import Settings


@dataclass
class Services:
    settings: Settings
    registry: Registry
    code_store: CodeStore
    driver: Driver
    pool: Pool
    functions: FunctionService
    invoker: Invoker
    scaling: ScalingService
    queue: EventQueue
    dispatcher: Dispatcher
    observability: Observability
    aliases: AliasService
    layers: LayerService
    urls: FunctionUrlService
    hot_reload: HotReload


async def services(request: Request) -> Services:
    wired: Services = request.app.state.services  # set at start-up, in the app's lifespan
    return wired


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The request body, refusing more than `limit` bytes without reading it all into memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise LambdaError(LambdaErrorCode.REQUEST_TOO_LARGE, what)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise LambdaError(LambdaErrorCode.REQUEST_TOO_LARGE, what)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    import json

    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError as exc:
        raise LambdaError(
            LambdaErrorCode.INVALID_REQUEST_CONTENT, f"The request body is not valid JSON: {exc}"
        ) from None
    if not isinstance(body, dict):
        raise LambdaError(
            LambdaErrorCode.INVALID_REQUEST_CONTENT, "The request body must be a JSON object."
        )
    return body
