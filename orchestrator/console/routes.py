"""Wiring the console into the app: its routers, its static files, its session state, and the
answer to a browser that is not signed in."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..actions import is_console_path
from ..credentials import Credentials
from . import async_pages, functions_pages, instances_pages, logs_pages, metrics_pages, sign_in
from .sessions import SessionStore
from .web import HERE, PREFIX, ConsoleState, SignInRequired, message_page


def install(app: FastAPI, credentials: Credentials | None, region: str, tls: bool) -> None:
    app.state.console = ConsoleState(
        sessions=SessionStore(),
        users_by_key=credentials.user_by_key() if credentials is not None else None,
        region=region,
        secure_cookies=tls,
    )
    app.include_router(sign_in.router)
    for pages in (functions_pages, instances_pages, logs_pages, metrics_pages, async_pages):
        app.include_router(pages.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console_static")

    _answer_console_errors_in_html(app)

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        target = f"{PREFIX}/sign-in"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)


def _answer_console_errors_in_html(app: FastAPI) -> None:
    """A refused form or an unknown page under /console is a page in words, not the API's JSON;
    everywhere else the API's own handlers (api/errors.py) answer as before."""
    api_http = app.exception_handlers[StarletteHTTPException]
    api_validation = app.exception_handlers[RequestValidationError]

    async def http_error(request: Request, exc: Exception) -> Response:
        if not is_console_path(request.url.path):
            return await _delegate(api_http, request, exc)
        assert isinstance(exc, StarletteHTTPException)
        text = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return message_page(request, exc.status_code, text)

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not is_console_path(request.url.path):
            return await _delegate(api_validation, request, exc)
        assert isinstance(exc, RequestValidationError)
        fields = ", ".join(
            str(e["loc"][-1]).replace("_", " ") for e in exc.errors() if e.get("loc")
        )
        return message_page(
            request,
            422,
            f"Some fields are missing or out of range ({fields}): correct them and submit again.",
        )

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


async def _delegate(
    handler: Callable[[Request, Exception], Response | Awaitable[Response]],
    request: Request,
    exc: Exception,
) -> Response:
    answer = handler(request, exc)
    return await answer if inspect.isawaitable(answer) else answer
