"""What every console page needs: the signed-in session, the CSRF check, the API, and rendering.

A page handler takes a `Page` (FastAPI dependency): it carries the session (a browser without
one is sent to sign in, or on an open server given an anonymous one), a `ConsoleApi` signed as
that session's user, and `render` for the page's template. Every request that changes something
must carry the session's CSRF token (form field or `X-CSRF-Token` header), or it is refused
before anything happens.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ..credentials import User
from .api_client import ApiError, ConsoleApi
from .assets import HTMX
from .sessions import COOKIE_NAME, CSRF_FIELD, CSRF_HEADER, Session, SessionStore, csrf_matches
from .sign_in_throttle import SignInThrottle

PREFIX = "/console"
HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")


def _log_time(epoch_ms: int) -> str:
    return (
        time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch_ms / 1000)) + f".{epoch_ms % 1000:03d}"
    )


TEMPLATES.env.filters["log_time"] = _log_time
# A checkout not built with `make install` has no htmx: every page says so (assets.py).
TEMPLATES.env.globals["htmx_missing"] = lambda: not HTMX.is_file()

# Pages load only the console's own files: no inline script or style, no framing by another
# site (clickjacking), forms post only here.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",  # pages hold the CSRF token and the user's data
}


def html(
    request: Request, template: str, values: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    """Every console page is rendered here, so every one carries SECURITY_HEADERS."""
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


_SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class ConsoleState:
    """Put on `app.state.console` by create_app."""

    sessions: SessionStore
    users_by_key: dict[str, User] | None  # None: an open server, nobody signs in
    region: str
    secure_cookies: bool  # the server speaks TLS: cookies only over it
    throttle: SignInThrottle = field(default_factory=SignInThrottle)

    def user_for(self, access_key_id: str, secret: str) -> User | None:
        """The user these keys belong to, compared in constant time."""
        if self.users_by_key is None:
            return None
        user = self.users_by_key.get(access_key_id)
        if user is None or not hmac.compare_digest(
            user.secret_access_key.encode(), secret.encode()
        ):
            return None
        return user


class SignInRequired(Exception):
    """Raised by the Page dependency; answered with a redirect (or HX-Redirect) to sign-in."""


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


@dataclass
class Page:
    request: Request
    session: Session
    api: ConsoleApi
    new_cookie: bool  # an anonymous session opened by this request: set its cookie

    def render(self, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
        response = html(
            self.request,
            template,
            {"session": self.session, "csrf_field": CSRF_FIELD, **values},
            status_code,
        )
        self.keep_cookie(response)
        return response

    def error(self, status_code: int, text: str) -> HTMLResponse:
        """A refusal in words, as a whole page or (for htmx) the fragment it swaps in."""
        response = message_page(self.request, status_code, text, self.session)
        self.keep_cookie(response)
        return response

    def redirect(self, url: str) -> Response:
        """After a form post: a plain redirect, or HX-Redirect for an htmx request."""
        if self.request.headers.get("hx-request"):
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        self.keep_cookie(response)
        return response

    def keep_cookie(self, response: Response) -> None:
        if self.new_cookie:
            set_session_cookie(response, self.session, console_state(self.request).secure_cookies)


def message_page(
    request: Request, status_code: int, text: str, session: Session | None = None
) -> HTMLResponse:
    """Words for the user, as a whole page or, for an htmx request, the fragment it swaps in
    (htmx swaps only 2xx answers by default: a fragment goes back as 200, its words say it)."""
    fragment = bool(request.headers.get("hx-request"))
    return html(
        request,
        "message_fragment.html" if fragment else "message.html",
        {"error": text, "session": session, "csrf_field": CSRF_FIELD},
        200 if fragment else status_code,
    )


def set_session_cookie(response: Response, session: Session, secure: bool) -> None:
    response.set_cookie(
        COOKIE_NAME,
        session.id,
        httponly=True,
        samesite="strict",
        secure=secure,
        path=PREFIX,
    )


async def page(request: Request) -> Page:
    """The dependency of every page but sign-in itself."""
    state = console_state(request)
    session = state.sessions.find(request.cookies.get(COOKIE_NAME))
    new_cookie = False
    if session is None:
        if state.users_by_key is not None:
            raise SignInRequired()
        session = state.sessions.open("anonymous", None)  # an open server: nobody signs in
        new_cookie = True
    if request.method not in _SAFE_METHODS and not await _csrf_ok(request, session):
        raise HTTPException(403, "The page was out of date: reload it and try again.")
    api = ConsoleApi(request.app, session, state.region)
    return Page(request, session, api, new_cookie)


async def _csrf_ok(request: Request, session: Session) -> bool:
    presented = request.headers.get(CSRF_HEADER)
    if presented is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            presented = value if isinstance(value, str) else None
    return csrf_matches(session, presented)


def error_text(error: ApiError) -> str:
    """AWS's words, and what to do about the usual ones."""
    advice = {
        "AccessDeniedException": "Ask an administrator for the permission it names.",
        "ResourceNotFoundException": "It may have been deleted: go back to the list.",
        "InvalidParameterValueException": "Correct the value and submit again.",
        "ResourceConflictException": "Wait for the function's update to finish, then retry.",
        "TooManyRequestsException": "Wait a moment, then retry.",
    }.get(error.error_type, "")
    return " ".join(part for part in (str(error), advice) if part)
