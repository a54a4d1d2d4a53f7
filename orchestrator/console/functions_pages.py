"""The Functions pages: the list, one function, creating one, editing it, uploading code, and
the Test tab. Each reads and writes through the API (`api_client.py`) as the signed-in user."""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, UploadFile
from fastapi.responses import HTMLResponse, Response

from ..runtimes import RUNTIMES
from .api_client import ApiError, error_of, function_path
from .charts import chart
from .report import parse_report
from .web import PREFIX, Page, error_text, page

router = APIRouter(prefix=PREFIX)
CurrentPage = Annotated[Page, Depends(page)]

_MAX_ZIP = 50 * 1024 * 1024  # Lambda's direct-upload limit: the API refuses more anyway
_MAX_PAYLOAD = 6 * 1024 * 1024  # Invoke's synchronous payload limit
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a function name as the list shows it


async def _all_functions(current: Page) -> list[dict[str, Any]]:
    functions: list[dict[str, Any]] = []
    marker = ""
    while True:
        query = "?MaxItems=50" + (f"&Marker={marker}" if marker else "")
        listing = await current.api.call("GET", "/2015-03-31/functions/" + query)
        functions += listing.get("Functions", [])
        marker = listing.get("NextMarker") or ""
        if not marker:
            return functions


def _matches(function: dict[str, Any], query: str) -> bool:
    """The search box: every word must appear in the name, runtime or description."""
    text = " ".join(
        str(function.get(key, "")) for key in ("FunctionName", "Runtime", "Description")
    ).lower()
    return all(word in text for word in query.lower().split())


@router.get("/functions", response_class=HTMLResponse)
async def function_list(current: CurrentPage, q: str = "") -> Response:
    q = q[:200]
    try:
        functions = [f for f in await _all_functions(current) if _matches(f, q)]
    except ApiError as error:
        return current.render("functions.html", functions=[], q=q, error=error_text(error))
    functions.sort(key=lambda f: str(f.get("FunctionName", "")))
    figures = await _last_hour(current)
    template = "functions_rows.html" if current.request.headers.get("hx-request") else None
    return current.render(
        template or "functions.html",
        functions=functions,
        figures=figures,
        q=q,
        runtimes=sorted(RUNTIMES),
    )


async def _last_hour(current: Page) -> dict[str, dict[str, Any]]:
    """Each function's last hour: its summary, and its invocations per minute as a chart. A
    user without the right to read metrics still gets the list, without figures."""
    try:
        history = await current.api.call("GET", "/lambkin/metrics/history?minutes=60")
    except ApiError:
        return {}
    return {
        f["FunctionName"]: {
            **f["Summary"],
            "chart": chart([p["Invocations"] for p in f["Points"]], "Invocations per minute"),
        }
        for f in history.get("Functions", [])
    }


@router.post("/functions", response_class=HTMLResponse)
async def create_function(
    current: CurrentPage,
    function_name: Annotated[str, Form(max_length=64)],
    runtime: Annotated[str, Form(max_length=40)],
    handler: Annotated[str, Form(max_length=128)],
    role: Annotated[str, Form(max_length=2048)],
    code: UploadFile,
    memory_size: Annotated[int, Form(ge=128, le=10240)] = 128,
    timeout: Annotated[int, Form(ge=1, le=900)] = 3,
) -> Response:
    zip_bytes = await _read_upload(code)
    if isinstance(zip_bytes, str):
        return current.error(400, zip_bytes)
    request = {
        "FunctionName": function_name.strip(),
        "Runtime": runtime,
        "Handler": handler.strip(),
        "Role": role.strip(),
        "MemorySize": memory_size,
        "Timeout": timeout,
        "Code": {"ZipFile": base64.b64encode(zip_bytes).decode()},
    }
    try:
        created = await current.api.call("POST", "/2015-03-31/functions", request)
    except ApiError as error:
        return current.error(error.status, error_text(error))
    return current.redirect(f"{PREFIX}/functions/{created['FunctionName']}")


async def _read_upload(code: UploadFile) -> bytes | str:
    """The zip's bytes, or what is wrong with it in words the user can act on."""
    data = await code.read(_MAX_ZIP + 1)
    if len(data) > _MAX_ZIP:
        return "The zip is larger than 50 MB: Lambda's limit for a direct upload."
    if not data.startswith(b"PK"):
        return "That file is not a zip archive: choose the .zip of the function's code."
    return data


@router.get("/functions/{name}", response_class=HTMLResponse)
async def function_detail(current: CurrentPage, name: str) -> Response:
    if not _NAME.fullmatch(name):
        return current.error(404, f"No function named {name!r}.")
    try:
        details = await _details(current, name)
    except ApiError as error:
        return current.error(error.status, error_text(error))
    return current.render("function.html", name=name, **details)


async def _details(current: Page, name: str) -> dict[str, Any]:
    path = function_path(name)
    function = await current.api.call("GET", path)
    config = function["Configuration"]
    versions, aliases, url, concurrency, provisioned = await asyncio.gather(
        current.api.call("GET", path + "/versions"),
        current.api.call("GET", path + "/aliases"),
        _optional(current, "GET", f"/2021-10-31/functions/{name}/url"),
        _optional(current, "GET", f"/2019-09-30/functions/{name}/concurrency"),
        _optional(current, "GET", f"/2019-09-30/functions/{name}/provisioned-concurrency?List=ALL"),
    )
    environment = (config.get("Environment") or {}).get("Variables") or {}
    return {
        "config": config,
        "tags": function.get("Tags") or {},
        "environment": environment,
        "versions": versions.get("Versions", []),
        "aliases": aliases.get("Aliases", []),
        "url": url,
        "reserved": (concurrency or {}).get("ReservedConcurrentExecutions"),
        "provisioned": (provisioned or {}).get("ProvisionedConcurrencyConfigs", []),
    }


async def _optional(current: Page, method: str, path: str) -> Any:
    """A read whose absence is an answer (no URL configured, no concurrency set)."""
    try:
        return await current.api.call(method, path)
    except ApiError as error:
        if error.status == 404:
            return None
        raise


@router.get("/functions/{name}/environment", response_class=HTMLResponse)
async def environment(current: CurrentPage, name: str, reveal: bool = False) -> Response:
    """The environment table, masked or (on request) revealed: values leave the server only
    when the user asks for them."""
    try:
        config = await current.api.call("GET", function_path(name, "/configuration"))
    except ApiError as error:
        return current.error(error.status, error_text(error))
    variables = (config.get("Environment") or {}).get("Variables") or {}
    return current.render("environment.html", name=name, environment=variables, reveal=reveal)


@router.post("/functions/{name}/configuration", response_class=HTMLResponse)
async def update_configuration(
    current: CurrentPage,
    name: str,
    memory_size: Annotated[int, Form(ge=128, le=10240)],
    timeout: Annotated[int, Form(ge=1, le=900)],
    environment: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    variables = _parse_environment(environment)
    if isinstance(variables, str):
        return current.error(400, variables)
    update: dict[str, Any] = {"MemorySize": memory_size, "Timeout": timeout}
    if variables is not None:
        update["Environment"] = {"Variables": variables}
    try:
        await current.api.call("PUT", function_path(name, "/configuration"), update)
    except ApiError as error:
        return current.error(error.status, error_text(error))
    return current.redirect(f"{PREFIX}/functions/{name}")


def _parse_environment(text: str) -> dict[str, str] | str | None:
    """`KEY=value` per line (None: leave the environment as it is)."""
    if not text.strip():
        return None
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            return f"Line {number} of the environment is not KEY=value: write one per line."
        variables[key.strip()] = value
    return variables


@router.post("/functions/{name}/code", response_class=HTMLResponse)
async def update_code(current: CurrentPage, name: str, code: UploadFile) -> Response:
    zip_bytes = await _read_upload(code)
    if isinstance(zip_bytes, str):
        return current.error(400, zip_bytes)
    body = {"ZipFile": base64.b64encode(zip_bytes).decode()}
    try:
        await current.api.call("PUT", function_path(name, "/code"), body)
    except ApiError as error:
        return current.error(error.status, error_text(error))
    return current.redirect(f"{PREFIX}/functions/{name}")


@router.post("/functions/{name}/invoke", response_class=HTMLResponse)
async def test_invoke(
    current: CurrentPage, name: str, payload: Annotated[str, Form(max_length=_MAX_PAYLOAD)] = ""
) -> Response:
    """The Test tab: invoke with the payload, show the result, the log tail and the REPORT."""
    text = payload.strip() or "{}"
    try:
        json.loads(text)
    except ValueError as problem:
        return current.render(
            "invoke_result.html", error=f"The payload is not JSON ({problem}): correct it."
        )
    response = await current.api.raw(
        "POST",
        function_path(name, "/invocations"),
        text.encode(),
        {"x-amz-log-type": "Tail"},
    )
    if response.status >= 400:
        return current.render("invoke_result.html", error=error_text(error_of(response)))
    tail = base64.b64decode(response.headers.get("x-amz-log-result", "")).decode("utf-8", "replace")
    return current.render(
        "invoke_result.html",
        error="",
        function_error=response.headers.get("x-amz-function-error", ""),
        result=response.body.decode("utf-8", "replace"),
        log_tail=tail,
        report=parse_report(tail),
    )
