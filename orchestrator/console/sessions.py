"""Console sign-in sessions: who a browser is, kept on the server, named by an opaque cookie.

A session holds the keys its user signed in with, so that every page the console renders is
fetched from the API signed with those keys: the console can show and do exactly what the
principal's permissions allow through the API, and the audit trail records the user, not the
console. The browser only ever holds a random session id (HttpOnly, SameSite=Strict) and the
session's CSRF token, which every state-changing request must echo.

On an open server (no credentials file, loopback only) the browser still gets a session, with
no keys: its CSRF token is what keeps another web page from driving the console.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE_NAME = "lambkin_console"
CSRF_FIELD = "csrf_token"  # the form field
CSRF_HEADER = "x-csrf-token"  # what htmx requests send instead
SESSION_LIFETIME_S = 8 * 3600  # a working day; signing in again is cheap
MAX_SESSIONS = 1000  # bounded: a flood of sign-ins evicts the oldest, never exhausts memory


@dataclass(frozen=True)
class Keys:
    access_key_id: str
    secret_access_key: str = field(repr=False)


@dataclass(frozen=True)
class Session:
    id: str = field(repr=False)
    csrf_token: str = field(repr=False)
    user: str  # the credentials file's user name, or "anonymous" on an open server
    keys: Keys | None  # None: requests to the API go unsigned (an open server)
    expires_at: float


class SessionStore:
    """In memory: a server restart signs everyone out, which is the safe direction."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sessions: OrderedDict[str, Session] = OrderedDict()

    def open(self, user: str, keys: Keys | None) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            csrf_token=secrets.token_urlsafe(32),
            user=user,
            keys=keys,
            expires_at=self._clock() + SESSION_LIFETIME_S,
        )
        self._sessions[session.id] = session
        while len(self._sessions) > MAX_SESSIONS:
            self._sessions.popitem(last=False)
        return session

    def find(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        session = self._sessions.get(session_id)
        if session is None:
            return None
        if session.expires_at <= self._clock():
            del self._sessions[session_id]
            return None
        return session

    def close(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)


def csrf_matches(session: Session, presented: str | None) -> bool:
    """Constant time, so the token cannot be guessed a character at a time."""
    return presented is not None and hmac.compare_digest(
        session.csrf_token.encode(), presented.encode()
    )
