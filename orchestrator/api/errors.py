"""The one place where errors become AWS-shaped responses.

botocore picks the modeled exception from `x-amzn-ErrorType` and the message from
`Message`/`message`; without the header boto3 raises a bare ClientError.
"""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import LambdaError, LambdaErrorCode

log = logging.getLogger(__name__)


def error_response(
    code: LambdaErrorCode, message: str, request_id: str | None = None, **extra: str
) -> JSONResponse:
    request_id = request_id or str(uuid.uuid4())
    body = {
        "Type": "Service" if code.status >= 500 else "User",
        "Message": message,
        "message": message,
        **extra,
    }
    return JSONResponse(
        body,
        status_code=code.status,
        headers={"x-amzn-ErrorType": code.value, "x-amzn-RequestId": request_id},
    )


async def _lambda_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LambdaError)
    return error_response(exc.code, exc.message, **exc.extra)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return error_response(
            LambdaErrorCode.UNKNOWN_OPERATION,
            f"No operation at {request.method} {request.url.path}; see the Lambda API reference.",
        )
    if exc.status_code == 405:
        response = error_response(
            LambdaErrorCode.UNKNOWN_OPERATION,
            f"Method {request.method} is not allowed on {request.url.path}.",
        )
        response.status_code = 405
        return response
    return error_response(LambdaErrorCode.SERVICE, str(exc.detail))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return error_response(LambdaErrorCode.VALIDATION, f"1 validation error detected: {problems}")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    request_id = str(uuid.uuid4())
    log.error(
        "unexpected error on %s %s (request %s)",
        request.method,
        request.url.path,
        request_id,
        exc_info=exc,
    )
    return error_response(
        LambdaErrorCode.SERVICE,
        f"Internal server error (request {request_id}); the server log has the details. "
        "Retry the request.",
        request_id,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(LambdaError, _lambda_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
