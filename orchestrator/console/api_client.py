"""The console's way into the platform: the server's own API, called in-process, signed.

Every page reads and changes things through the same Lambda and Lambkin routes boto3 uses, run
through the whole app (the access layer, validation, the audit trail), signed with the session's
keys by botocore's SigV4 signer. So the console cannot show or do anything its user could not do
with the AWS CLI, and nothing about permissions is written twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.types import ASGIApp

from .sessions import Session

# The base URL of in-process requests; never resolved (the transport is the app itself).
_BASE = "http://console.internal"
_TIMEOUT_S = 60.0  # an Invoke from the Test tab waits as long as the function may run


@dataclass(frozen=True)
class ApiError(Exception):
    """The API refused: AWS's error type and message, shown to the user as they are."""

    status: int
    error_type: str
    message: str

    def __str__(self) -> str:
        return f"{self.error_type}: {self.message}"


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes


class ConsoleApi:
    def __init__(self, app: ASGIApp, session: Session, region: str) -> None:
        self._app = app
        self._session = session
        self._region = region

    async def raw(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        service: str = "lambda",
    ) -> RawResponse:
        url = _BASE + path
        sent = {"content-type": "application/json", **(headers or {})}
        sent = self._signed(method, url, body, sent, service)
        transport = httpx.ASGITransport(app=self._app)
        async with httpx.AsyncClient(transport=transport, timeout=_TIMEOUT_S) as client:
            response = await client.request(method, url, content=body, headers=sent)
        return RawResponse(response.status_code, dict(response.headers), response.content)

    async def call(
        self, method: str, path: str, payload: Any = None, service: str = "lambda"
    ) -> Any:
        """A JSON call; an AWS error answer raises ApiError with AWS's type and message."""
        body = json.dumps(payload).encode() if payload is not None else b""
        response = await self.raw(method, path, body, service=service)
        if response.status >= 400:
            raise error_of(response)
        return _json(response.body)

    async def logs(self, operation: str, payload: dict[str, Any]) -> Any:
        """A CloudWatch Logs call (JSON 1.1 on `POST /`)."""
        body = json.dumps(payload).encode()
        headers = {
            "content-type": "application/x-amz-json-1.1",
            "x-amz-target": f"Logs_20140328.{operation}",
        }
        response = await self.raw("POST", "/", body, headers, service="logs")
        if response.status >= 400:
            raise error_of(response)
        return _json(response.body)

    def _signed(
        self, method: str, url: str, body: bytes, headers: dict[str, str], service: str
    ) -> dict[str, str]:
        keys = self._session.keys
        if keys is None:
            return headers  # an open server: requests are not signed
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        credentials = Credentials(keys.access_key_id, keys.secret_access_key)
        SigV4Auth(credentials, service, self._region).add_auth(request)
        return dict(request.headers.items())


def function_path(name: str, suffix: str = "") -> str:
    return f"/2015-03-31/functions/{quote(name, safe='')}{suffix}"


def _json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def error_of(response: RawResponse) -> ApiError:
    """An error answer of either protocol: rest-json's header, or JSON 1.1's `__type`."""
    document = _json(response.body)
    fields = document if isinstance(document, dict) else {}
    error_type = (
        response.headers.get("x-amzn-errortype", "").split(":", 1)[0]
        or str(fields.get("__type", "")).rsplit("#", 1)[-1]
        or f"HTTP {response.status}"
    )
    message = str(fields.get("message") or fields.get("Message") or "")
    return ApiError(response.status, error_type, message)
