"""Users for servers started with a credentials file, and requests signed by botocore's own
signer, optionally at another time (to send a signature past AWS's clock skew)."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass(frozen=True)
class ApiUser:
    name: str
    access_key: str
    secret_key: str
    permissions: tuple[str, ...]


USERS = (
    ApiUser("alice", "AKIDALICE0000000000", "alice-secret-0000000000", ("admin",)),
    ApiUser(
        "ci",
        "AKIDCI00000000000000",
        "ci-secret-00000000000000",
        ("deploy:orders-*", "invoke:orders-*", "read"),
    ),
    ApiUser("caller", "AKIDCALLER0000000000", "caller-secret-0000000000", ("invoke:orders-*",)),
    ApiUser("auditor", "AKIDAUDITOR000000000", "auditor-secret-0000000000", ("read",)),
)
ALICE, CI, CALLER, AUDITOR = USERS


def write_credentials(path: Path) -> Path:
    tables = [
        f"[users.{u.name}]\naccess_key_id = {json.dumps(u.access_key)}\n"
        f"secret_access_key = {json.dumps(u.secret_key)}\n"
        f"permissions = {json.dumps(list(u.permissions))}\n"
        for u in USERS
    ]
    tables.append(
        '[roles."arn:aws:iam::000000000000:role/orders"]\npermissions = ["invoke:orders-*"]\n'
    )
    path.write_text("\n".join(tables))
    return path


class SignedAt(SigV4Auth):  # type: ignore[misc]  # botocore has no types
    """botocore's SigV4 signer with the clock set to `at` instead of now."""

    def __init__(self, credentials: Credentials, service: str, region: str, at: datetime) -> None:
        super().__init__(credentials, service, region)
        self.at = at

    def add_auth(self, request: AWSRequest) -> None:
        request.context["timestamp"] = self.at.strftime(SIGV4_TIMESTAMP)
        self._modify_request_before_signing(request)
        canonical = self.canonical_request(request)
        signature = self.signature(self.string_to_sign(request, canonical), request)
        self._inject_signature_to_request(request, signature)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def error_type(self) -> str | None:
        return self.headers.get("x-amzn-errortype")


def send(
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    user: ApiUser | None = None,
    service: str = "lambda",
    at: datetime | None = None,
    send_body: bytes | None = None,
    ca_file: Path | None = None,
) -> Answer:
    """One request, signed by `user` (unsigned without one) at `at` (default now); `send_body`
    replaces the body after signing (a tampered request)."""
    headers = dict(headers or {})
    if user is not None:
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        credentials = Credentials(user.access_key, user.secret_key)
        SignedAt(credentials, service, "us-east-1", at or datetime.now(UTC)).add_auth(request)
        headers = dict(request.headers.items())
    raw = urllib.request.Request(
        url, data=send_body if send_body is not None else (body or None), method=method,
        headers=headers,
    )  # fmt: skip
    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    try:
        with urllib.request.urlopen(raw, timeout=60, context=context) as response:
            return Answer(response.status, _lower(response.headers.items()), response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, _lower(error.headers.items()), error.read())


def _lower(items: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in items}
