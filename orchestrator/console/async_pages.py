"""The Async page: the queue of asynchronous invocations (depth, retries, drops) and one
function's dead letters, each replayable (all of them, or one by its request id)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, Response

from .api_client import ApiError
from .web import PREFIX, Page, error_text, page

router = APIRouter(prefix=PREFIX)
CurrentPage = Annotated[Page, Depends(page)]
_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")


def _dlq_path(function: str) -> str:
    return f"/lambkin/dlq/{quote(function, safe='')}"


@router.get("/async", response_class=HTMLResponse)
async def async_status(current: CurrentPage, function: str = "", replayed: int = -1) -> Response:
    function = function[:170]
    error = ""
    status: dict[str, object] = {}
    letters: list[dict[str, object]] = []
    try:
        status = await current.api.call("GET", "/lambkin/async")
        if function:
            letters = (await current.api.call("GET", _dlq_path(function))).get("Events", [])
    except ApiError as refused:
        error = error_text(refused)
    return current.render(
        "async.html",
        section="async",
        status=status,
        function=function,
        letters=letters,
        replayed=replayed,
        error=error,
    )


@router.post("/async/replay", response_class=HTMLResponse)
async def replay(
    current: CurrentPage,
    function: Annotated[str, Form(max_length=170)],
    request_id: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Replay the function's dead letters (or the one named): they go back on the queue."""
    body: dict[str, object] = {}
    if request_id:
        if not _REQUEST_ID.fullmatch(request_id):
            return current.error(400, "That is not a request id: pick one from the list.")
        body["RequestIds"] = [request_id]
    try:
        answer = await current.api.call("POST", _dlq_path(function) + "/replay", body)
    except ApiError as refused:
        return current.error(refused.status, error_text(refused))
    count = int(answer.get("Replayed", 0))
    return current.redirect(f"{PREFIX}/async?function={quote(function, safe='')}&replayed={count}")
