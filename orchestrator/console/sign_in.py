"""Signing in with the API's own keys (an access key id and its secret), and signing out."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .sessions import COOKIE_NAME, Keys
from .web import PREFIX, Page, console_state, html, page, set_session_cookie

router = APIRouter(prefix=PREFIX)
HOME = f"{PREFIX}/functions"
_MAX_KEY = 128  # AWS's longest access key id; a secret is 40 characters, say 256 at most
_MAX_SECRET = 256


def _form(request: Request, status_code: int = 200, error: str = "") -> HTMLResponse:
    return html(request, "sign_in.html", {"error": error, "session": None}, status_code)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request) -> Response:
    if console_state(request).users_by_key is None:
        return RedirectResponse(HOME, status_code=303)  # an open server: nobody signs in
    return _form(request)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    access_key_id: Annotated[str, Form(max_length=_MAX_KEY)],
    secret_access_key: Annotated[str, Form(max_length=_MAX_SECRET)],
) -> Response:
    """No CSRF token yet (there is no session): the cookie is SameSite=Strict and a forged
    sign-in could only sign a browser in as the forger, which this refuses to do silently by
    requiring the form's own Origin."""
    state = console_state(request)
    origin = request.headers.get("origin")
    if origin is not None and not _same_host(origin, request):
        return _form(request, 403, "Sign in from this server's own page.")
    address = request.client.host if request.client else ""
    wait = state.throttle.wait_s(address)
    if wait:
        refused = _form(
            request,
            429,
            f"Too many wrong sign-ins from this address: try again in {int(wait) + 1} s.",
        )
        refused.headers["retry-after"] = str(int(wait) + 1)
        return refused
    user = state.user_for(access_key_id.strip(), secret_access_key)
    if user is None:
        state.throttle.failed(address)
        return _form(
            request,
            401,
            "Those keys are not valid here: use an access key id and secret from the "
            "server's credentials file (ask its administrator for yours).",
        )
    state.throttle.succeeded(address)
    session = state.sessions.open(user.name, Keys(user.access_key_id, secret_access_key))
    response = RedirectResponse(HOME, status_code=303)
    set_session_cookie(response, session, state.secure_cookies)
    return response


@router.post("/sign-out")
async def sign_out(current: Annotated[Page, Depends(page)]) -> Response:
    console_state(current.request).sessions.close(current.session.id)
    response = RedirectResponse(f"{PREFIX}/sign-in", status_code=303)
    response.delete_cookie(COOKIE_NAME, path=PREFIX)
    return response


@router.get("")
@router.get("/")
async def console_home() -> Response:
    return RedirectResponse(HOME, status_code=303)


def _same_host(origin: str, request: Request) -> bool:
    """The Origin names this server (host and port; the scheme may differ behind a TLS proxy)."""
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)
