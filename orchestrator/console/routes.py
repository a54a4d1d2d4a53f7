"""Wiring the console into the app: its routers, its static files, its session state, and the
answer to a browser that is not signed in."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ..credentials import Credentials
from . import functions_pages, sign_in
from .sessions import SessionStore
from .web import HERE, PREFIX, ConsoleState, SignInRequired


def install(app: FastAPI, credentials: Credentials | None, region: str, tls: bool) -> None:
    app.state.console = ConsoleState(
        sessions=SessionStore(),
        users_by_key=credentials.user_by_key() if credentials is not None else None,
        region=region,
        secure_cookies=tls,
    )
    app.include_router(sign_in.router)
    app.include_router(functions_pages.router)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="console_static")

    @app.exception_handler(SignInRequired)
    async def sign_in_first(request: Request, exc: SignInRequired) -> Response:
        target = f"{PREFIX}/sign-in"
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
