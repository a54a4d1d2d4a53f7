"""A tiny Runtime API client for the agent's test runtimes (stdlib only, one keep-alive connection).

The runtimes in this folder are plain scripts run as `python <script>`; this file sits next to them,
so `import rapi` finds it.
"""

from __future__ import annotations

import http.client
import os

BASE = "/2018-06-01/runtime"


class RuntimeApi:
    def __init__(self) -> None:
        self.address = os.environ["AWS_LAMBDA_RUNTIME_API"]
        self.conn = http.client.HTTPConnection(self.address)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        self.conn.request(method, BASE + path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def next(self) -> tuple[str, dict[str, str], bytes]:
        status, headers, body = self.call("GET", "/invocation/next")
        assert status == 200, status
        return headers["lambda-runtime-aws-request-id"], headers, body

    def respond(self, request_id: str, body: bytes, content_type: str = "application/json") -> int:
        return self.call(
            "POST", f"/invocation/{request_id}/response", body, {"Content-Type": content_type}
        )[0]

    def error(self, request_id: str, body: bytes, error_type: str | None = None) -> int:
        headers = {"Lambda-Runtime-Function-Error-Type": error_type} if error_type else {}
        return self.call("POST", f"/invocation/{request_id}/error", body, headers)[0]

    def init_error(self, body: bytes, error_type: str | None = None) -> int:
        headers = {"Lambda-Runtime-Function-Error-Type": error_type} if error_type else {}
        return self.call("POST", "/init/error", body, headers)[0]
