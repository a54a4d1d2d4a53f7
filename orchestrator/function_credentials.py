"""Temporary credentials for functions: what Lambda puts in `AWS_ACCESS_KEY_ID`,
`AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, for the function's execution role.

They are stateless, as STS's are: the session token says whom it is for (role, function,
instance) and until when, sealed with an HMAC under the server's own key, and the secret key is
derived from the access key id under the same key. So checking a request signed with them needs
no table: nothing grows with the number of instances, and a restarted server still accepts the
credentials of the instances it re-adopts. The key lives in the data dir, readable by the server
only; deleting it revokes every function's credentials at once.

An instance's credentials outlive it by a margin only: the pool retires each instance before its
credentials expire (instance lifetimes are capped at `MAX_LIFETIME_S`), and its replacement gets
new ones; that is how Lambda renews them too.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Lambda's execution environments live some hours; their credentials no longer than that.
MAX_LIFETIME_S = 12 * 3600.0
KEY_FILE = "function-credentials.key"
# STS's temporary keys start with ASIA (long-term ones with AKIA): tools tell them apart by it.
ACCESS_KEY_PREFIX = "ASIA"
_TOKEN_PREFIX = "lkn1."
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class InvalidSessionToken(Exception):
    """Not a token this server issued for that access key (forged, altered, or another key's)."""


class ExpiredSessionToken(Exception):
    """A genuine token past its expiry."""


@dataclass(frozen=True)
class SessionCredentials:
    """One instance's credentials, as the function sees them."""

    access_key_id: str
    secret_access_key: str
    session_token: str
    expires_at: float  # epoch seconds

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_SESSION_TOKEN": self.session_token,
        }


@dataclass(frozen=True)
class Session:
    """What a verified session token says."""

    role_arn: str
    function_name: str
    instance_id: str
    expires_at: float

    def principal_arn(self, account_id: str) -> str:
        """The caller as AWS names a role's session: assumed-role/<role name>/<session name>."""
        role_name = self.role_arn.rsplit("/", 1)[-1]
        return f"arn:aws:sts::{account_id}:assumed-role/{role_name}/{self.function_name}"


def load_or_create_key(data_dir: Path) -> bytes:
    """The server's sealing key: made on first use, readable by this user only."""
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server on this data dir made it first: use theirs
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key


class FunctionCredentials:
    """Issues and checks functions' temporary credentials under one key."""

    def __init__(self, key: bytes, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 16:
            raise ValueError("the sealing key must have at least 16 bytes")
        self._key = key
        self._clock = clock

    def issue(
        self, role_arn: str, function_name: str, instance_id: str, lifetime_s: float
    ) -> SessionCredentials:
        expires_at = self._clock() + min(lifetime_s, MAX_LIFETIME_S)
        access_key_id = ACCESS_KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(16))
        claims = {"k": access_key_id, "r": role_arn, "f": function_name, "i": instance_id}
        body = _b64(json.dumps({**claims, "e": int(expires_at)}, separators=(",", ":")).encode())
        sealed = _TOKEN_PREFIX + body
        token = sealed + "." + _b64(self._mac(b"token", sealed))
        return SessionCredentials(access_key_id, self._secret(access_key_id), token, expires_at)

    def verify(self, access_key_id: str, session_token: str) -> tuple[Session, str]:
        """The session a request's token names, and the secret key its signature must use.

        Raises InvalidSessionToken or ExpiredSessionToken; constant-time where it matters."""
        sealed, _, mac = session_token.rpartition(".")
        if not sealed.startswith(_TOKEN_PREFIX):
            raise InvalidSessionToken("not a session token of this server")
        try:
            given = _unb64(mac)
            claims = json.loads(_unb64(sealed[len(_TOKEN_PREFIX) :]))
        except ValueError:
            raise InvalidSessionToken("a malformed session token") from None
        if not hmac.compare_digest(given, self._mac(b"token", sealed)):
            raise InvalidSessionToken("a session token this server did not seal")
        # Sealed by us, so well-formed; it must still be this key's token.
        if not isinstance(claims, dict) or claims.get("k") != access_key_id:
            raise InvalidSessionToken("the session token belongs to another access key")
        session = Session(claims["r"], claims["f"], claims["i"], float(claims["e"]))
        if self._clock() >= session.expires_at:
            raise ExpiredSessionToken("the session token is expired")
        return session, self._secret(access_key_id)

    def _secret(self, access_key_id: str) -> str:
        return base64.b64encode(self._mac(b"secret", access_key_id)).decode()[:40]

    def _mac(self, purpose: bytes, text: str) -> bytes:
        return hmac.new(self._key, purpose + b"\0" + text.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
