"""A function URL request as the event Lambda builds (payload format 2.0), and the function's
answer as the HTTP response Lambda sends back; CORS as Lambda answers it from the URL's config.
Pure: no I/O, tested with tables."""

from __future__ import annotations

import base64
import json
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Bodies Lambda passes as text; anything else arrives base64-encoded (isBase64Encoded).
_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
)  # (form posts arrive base64-encoded, as on Lambda)
_TEXT_SUFFIXES = ("+json", "+xml")
INTERNAL_ERROR = b"Internal Server Error"
TIMED_OUT = b"Gateway Timeout"


@dataclass(frozen=True)
class IamCaller:
    """AWS_IAM URLs: who signed the request (requestContext.authorizer.iam)."""

    access_key: str
    account_id: str
    user_arn: str
    user_id: str


@dataclass(frozen=True)
class UrlRequest:
    method: str
    raw_path: str  # as sent, percent-encoding kept
    raw_query: str
    headers: Sequence[tuple[str, str]]  # in order, repeated names kept
    body: bytes
    source_ip: str
    url_id: str
    domain: str
    account_id: str
    request_id: str
    caller: IamCaller | None = None
    epoch_ms: int = field(default_factory=lambda: int(time.time() * 1000))


def _is_text(content_type: str | None) -> bool:
    if content_type is None:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(_TEXT_TYPES) or kind.endswith(_TEXT_SUFFIXES)


def event(request: UrlRequest) -> dict[str, Any]:
    """The payload format 2.0 event: lower-cased headers (repeated ones comma-joined), cookies
    apart, query parameters comma-joined, the body as text or base64."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        lower = name.lower()
        if lower == "cookie":
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        headers[lower] = f"{headers[lower]},{value}" if lower in headers else value
    when = datetime.fromtimestamp(request.epoch_ms / 1000, UTC)
    path = urllib.parse.unquote(request.raw_path)
    context: dict[str, Any] = {
        "accountId": request.account_id if request.caller else "anonymous",
        "apiId": request.url_id,
        "domainName": request.domain,
        "domainPrefix": request.url_id,
        "http": {
            "method": request.method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request.request_id,
        "routeKey": "$default",
        "stage": "$default",
        "time": when.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": request.epoch_ms,
    }
    if request.caller is not None:
        caller = request.caller
        context["authorizer"] = {
            "iam": {
                "accessKey": caller.access_key,
                "accountId": caller.account_id,
                "callerId": caller.user_id,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": caller.user_arn,
                "userId": caller.user_id,
            }
        }
    built: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        built["cookies"] = cookies
    built["headers"] = headers
    if request.raw_query:
        query: dict[str, str] = {}
        for name, value in urllib.parse.parse_qsl(request.raw_query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        built["queryStringParameters"] = query
    built["requestContext"] = context
    if request.body:
        text = _is_text(headers.get("content-type"))
        if text:
            try:
                built["body"] = request.body.decode("utf-8")
            except UnicodeDecodeError:
                text = False
        if not text:
            built["body"] = base64.b64encode(request.body).decode("ascii")
        built["isBase64Encoded"] = not text
    else:
        built["isBase64Encoded"] = False
    return built


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def answer(result: bytes) -> HttpAnswer:
    """The HTTP response for what the function returned: an object with `statusCode` is a
    response (headers, cookies, body, isBase64Encoded); any other JSON value is the body of a
    200 `application/json` answer (a string as itself, the rest as compact JSON), as Lambda
    does. What cannot be read as either is Lambda's 502."""
    try:
        value = json.loads(result) if result.strip() else None
    except (ValueError, RecursionError):
        return error_answer(502)
    if isinstance(value, dict) and "statusCode" in value:
        return _response(value)
    if value is None:
        body = b""
    elif isinstance(value, str):
        body = value.encode()
    else:
        body = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
    return HttpAnswer(200, [("content-type", "application/json")], body)


def _response(value: dict[str, Any]) -> HttpAnswer:
    status = value.get("statusCode")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        return error_answer(502)
    headers: list[tuple[str, str]] = []
    given = value.get("headers") or {}
    if not isinstance(given, dict):
        return error_answer(502)
    for name, item in given.items():
        headers.append((str(name).lower(), _header_value(item)))
    if not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", "application/json"))
    cookies = value.get("cookies") or []
    if not isinstance(cookies, list):
        return error_answer(502)
    headers += [("set-cookie", str(cookie)) for cookie in cookies]
    body_value = value.get("body")
    if body_value is None:
        body = b""
    elif not isinstance(body_value, str):
        body = json.dumps(body_value, separators=(",", ":")).encode()
    elif value.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body_value, validate=True)
        except ValueError:
            return error_answer(502)
    else:
        body = body_value.encode()
    if any("\r" in v or "\n" in v for _, v in headers):  # a response-splitting header
        return error_answer(502)
    return HttpAnswer(status, headers, body)


# A streamed HTTP response (`awslambda.HttpResponseStream.from`): this content type, then the
# JSON metadata (statusCode, headers, cookies), 8 NUL bytes, and the body.
HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"
PRELUDE_END = b"\x00" * 8
PRELUDE_MAX = 64 * 1024


def split_prelude(buffered: bytes) -> tuple[HttpAnswer, bytes] | None:
    """(the head the prelude asks for, with an empty body; the body bytes after it) once the
    8 NUL bytes have arrived; None while they have not. A prelude that is not a valid response
    head is Lambda's 502."""
    end = buffered.find(PRELUDE_END)
    if end < 0:
        if len(buffered) > PRELUDE_MAX:
            return error_answer(502), b""
        return None
    try:
        prelude = json.loads(buffered[:end]) if buffered[:end].strip() else {}
    except (ValueError, RecursionError):
        return error_answer(502), b""
    if not isinstance(prelude, dict):
        return error_answer(502), b""
    head = _response({"statusCode": 200, **prelude, "body": None})
    named = prelude.get("headers")
    given: dict[str, Any] = named if isinstance(named, dict) else {}
    if head.status != 502 and not any(str(k).lower() == "content-type" for k in given):
        head = HttpAnswer(
            head.status,
            [(n, v) for n, v in head.headers if n != "content-type"]
            + [("content-type", "application/octet-stream")],
            b"",
        )
    return head, buffered[end + len(PRELUDE_END) :]


def _header_value(item: Any) -> str:
    if isinstance(item, bool):
        return "true" if item else "false"
    return str(item)


def error_answer(status: int) -> HttpAnswer:
    """Lambda's own answers for a URL: 502 when the function fails or answers nonsense, 504
    when it times out."""
    body = TIMED_OUT if status == 504 else INTERNAL_ERROR
    return HttpAnswer(status, [("content-type", "text/plain")], body)


def json_error(status: int, error_type: str, message: str) -> HttpAnswer:
    """403, 429 and the like: `{"Message": ...}` with `x-amzn-ErrorType`, as Lambda sends."""
    body = json.dumps({"Message": message}).encode()
    return HttpAnswer(
        status, [("content-type", "application/json"), ("x-amzn-errortype", error_type)], body
    )


# -- CORS ------------------------------------------------------------------------------------


def _allowed_origin(cors: dict[str, Any], origin: str | None) -> str | None:
    if origin is None:
        return None
    origins = cors.get("AllowOrigins") or []
    if "*" in origins:
        return "*" if not cors.get("AllowCredentials") else origin
    return origin if origin in origins else None


def is_preflight(method: str, headers: dict[str, str]) -> bool:
    return (
        method == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers
    )


def preflight(cors: dict[str, Any], headers: dict[str, str]) -> HttpAnswer:
    """The answer to a CORS preflight, from the URL's config alone (the function never sees
    it): the allowed origin, methods and headers when this one is allowed, none otherwise."""
    origin = _allowed_origin(cors, headers.get("origin"))
    wanted = headers.get("access-control-request-method", "").upper()
    methods = [m.upper() for m in cors.get("AllowMethods") or []]
    out: list[tuple[str, str]] = []
    if origin is not None and ("*" in methods or wanted in methods):
        out.append(("access-control-allow-origin", origin))
        out.append(("access-control-allow-methods", ",".join(methods)))
        if cors.get("AllowHeaders"):
            out.append(("access-control-allow-headers", ",".join(cors["AllowHeaders"])))
        if cors.get("AllowCredentials"):
            out.append(("access-control-allow-credentials", "true"))
        if cors.get("MaxAge") is not None:
            out.append(("access-control-max-age", str(cors["MaxAge"])))
        if origin != "*":
            out.append(("vary", "Origin"))
    return HttpAnswer(200, out, b"")


def cors_headers(cors: dict[str, Any] | None, origin: str | None) -> list[tuple[str, str]]:
    """What Lambda adds to an actual response for an allowed origin (it replaces the
    function's own CORS headers)."""
    if not cors:
        return []
    allowed = _allowed_origin(cors, origin)
    if allowed is None:
        return []
    out = [("access-control-allow-origin", allowed)]
    if cors.get("ExposeHeaders"):
        out.append(("access-control-expose-headers", ",".join(cors["ExposeHeaders"])))
    if cors.get("AllowCredentials"):
        out.append(("access-control-allow-credentials", "true"))
    if allowed != "*":
        out.append(("vary", "Origin"))
    return out


def with_cors(answer_: HttpAnswer, cors: dict[str, Any] | None, origin: str | None) -> HttpAnswer:
    extra = cors_headers(cors, origin)
    if not extra:
        return answer_
    kept = [(n, v) for n, v in answer_.headers if not n.startswith("access-control-")]
    return HttpAnswer(answer_.status, kept + extra, answer_.body)
