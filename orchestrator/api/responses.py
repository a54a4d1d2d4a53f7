"""Successful Lambda API answers: JSON or no content, each with its own request id."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import Response
from fastapi.responses import JSONResponse


def json_response(body: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers={"x-amzn-RequestId": str(uuid.uuid4())})


def no_content() -> Response:
    return Response(status_code=204, headers={"x-amzn-RequestId": str(uuid.uuid4())})
