"""The Instances page: every instance with its state, age, invocations and memory, refreshed
every two seconds while the page is open (htmx polls the rows)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from .api_client import ApiError
from .web import PREFIX, Page, error_text, page

router = APIRouter(prefix=PREFIX)
CurrentPage = Annotated[Page, Depends(page)]


@router.get("/instances", response_class=HTMLResponse)
async def instances(current: CurrentPage, function: str = "") -> Response:
    return await _render(current, function[:170], "instances.html")


@router.get("/instances/rows", response_class=HTMLResponse)
async def instance_rows(current: CurrentPage, function: str = "") -> Response:
    return await _render(current, function[:170], "instances_rows.html")


async def _render(current: Page, function: str, template: str) -> Response:
    query = f"?function={quote(function, safe='')}" if function else ""
    try:
        listing = await current.api.call("GET", "/lambkin/instances" + query)
    except ApiError as error:
        return current.render(template, instances=[], function=function, error=error_text(error))
    rows = sorted(
        listing.get("Instances", []),
        key=lambda i: (str(i.get("FunctionName")), -float(i.get("AgeSeconds") or 0)),
    )
    return current.render(template, instances=rows, function=function, error="")
