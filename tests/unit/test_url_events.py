"""Function URL events and answers (url_events.py, function_urls.py): payload format 2.0 as
Lambda builds it, the function's answer as the HTTP response Lambda sends, and CORS."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from orchestrator import function_urls, url_events
from orchestrator.errors import LambdaError

URL_ID = "a" * 32


def request(**overrides: Any) -> url_events.UrlRequest:
    fields: dict[str, Any] = {
        "method": "GET", "raw_path": "/", "raw_query": "", "headers": [], "body": b"",
        "source_ip": "127.0.0.1", "url_id": URL_ID, "domain": "d", "account_id": "123456789012",
        "request_id": "r", "epoch_ms": 1_700_000_000_000,
    }  # fmt: skip
    fields.update(overrides)
    return url_events.UrlRequest(**fields)


def test_the_event_has_every_field_of_payload_format_2() -> None:
    built = url_events.event(
        request(
            method="POST", raw_path="/pa%2Fth/1", raw_query="q=1&q=2&x=",
            headers=[("Content-Type", "application/json"), ("X-Rep", "a"), ("x-rep", "b"),
                     ("Cookie", "a=1; b=2"), ("User-Agent", "curl/8")],
            body=b'{"k": 1}',
        )
    )  # fmt: skip
    assert built["version"] == "2.0" and built["routeKey"] == "$default"
    assert (built["rawPath"], built["rawQueryString"]) == ("/pa%2Fth/1", "q=1&q=2&x=")
    assert built["cookies"] == ["a=1", "b=2"]
    assert built["headers"] == {
        "content-type": "application/json", "x-rep": "a,b", "user-agent": "curl/8",
    }  # fmt: skip
    assert built["queryStringParameters"] == {"q": "1,2", "x": ""}
    context = built["requestContext"]
    assert context["http"] == {
        "method": "POST", "path": "/pa/th/1", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1",
        "userAgent": "curl/8",
    }  # fmt: skip
    assert (context["apiId"], context["domainPrefix"], context["accountId"]) == (
        URL_ID, URL_ID, "anonymous",
    )  # fmt: skip
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"
    assert context["timeEpoch"] == 1_700_000_000_000 and "authorizer" not in context
    assert (built["body"], built["isBase64Encoded"]) == ('{"k": 1}', False)


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        ("text/plain; charset=utf-8", b"hi", True),
        ("application/json", b"{}", True),
        ("application/vnd.api+json", b"{}", True),
        ("application/octet-stream", b"\x00\xff", False),
        ("application/x-www-form-urlencoded", b"a=1", False),
        (None, b"hi", False),
        ("text/plain", b"\xff\xfe", False),  # not UTF-8
    ],
)
def test_bodies_are_text_or_base64(content_type: str | None, body: bytes, text: bool) -> None:
    headers = [("content-type", content_type)] if content_type else []
    built = url_events.event(request(method="POST", headers=headers, body=body))
    assert built["isBase64Encoded"] is not text
    assert built["body"] == (body.decode() if text else base64.b64encode(body).decode())


def test_no_body_no_query_no_cookies() -> None:
    built = url_events.event(request())
    assert "body" not in built and "cookies" not in built
    assert "queryStringParameters" not in built and built["isBase64Encoded"] is False


def test_an_iam_caller_is_the_authorizer() -> None:
    caller = url_events.IamCaller(
        "AKID", "123456789012", "arn:aws:iam::123456789012:user/a", "AKID"
    )
    context = url_events.event(request(caller=caller))["requestContext"]
    assert context["accountId"] == "123456789012"
    assert context["authorizer"]["iam"]["userArn"] == "arn:aws:iam::123456789012:user/a"


@pytest.mark.parametrize(
    ("result", "status", "headers", "body"),
    [
        # AWS: test_lambda.snapshot.json, TestLambdaURL::test_lambda_url_invocation
        (b'{"hello": "world"}', 200, [("content-type", "application/json")], b'{"hello":"world"}'),
        (b'"hello"', 200, [("content-type", "application/json")], b"hello"),
        (b'["hello", 3, true]', 200, [("content-type", "application/json")], b'["hello",3,true]'),
        (b"3", 200, [("content-type", "application/json")], b"3"),
        (b'{"statusCode": 200, "body": "body123"}', 200,
         [("content-type", "application/json")], b"body123"),
        (b'{"statusCode": 201, "headers": {"Content-Type": "text/html", "X-A": 1},'
         b' "cookies": ["a=1", "b=2"], "body": "<p>"}', 201,
         [("content-type", "text/html"), ("x-a", "1"), ("set-cookie", "a=1"),
          ("set-cookie", "b=2")], b"<p>"),
        (b'{"statusCode": 200, "isBase64Encoded": true, "body": "AP8=",'
         b' "headers": {"content-type": "image/png"}}', 200,
         [("content-type", "image/png")], b"\x00\xff"),
        (b'{"statusCode": "x"}', 502, [("content-type", "text/plain")], b"Internal Server Error"),
        (b'{"statusCode": 200, "headers": {"x": "a\\r\\nSet-Cookie: evil"}}', 502,
         [("content-type", "text/plain")], b"Internal Server Error"),
        (b"not json", 502, [("content-type", "text/plain")], b"Internal Server Error"),
    ],
)  # fmt: skip
def test_answers(result: bytes, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
    got = url_events.answer(result)
    assert (got.status, got.headers, got.body) == (status, headers, body)


CORS = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"],
        "AllowHeaders": ["x-token"], "MaxAge": 60, "ExposeHeaders": ["x-id"]}  # fmt: skip


@pytest.mark.parametrize(
    ("cors", "origin", "method", "allowed"),
    [
        (CORS, "https://app.example", "POST", "https://app.example"),
        (CORS, "https://evil.example", "POST", None),
        (CORS, "https://app.example", "DELETE", None),
        ({"AllowOrigins": ["*"], "AllowMethods": ["*"]}, "https://any", "PUT", "*"),
        ({"AllowOrigins": ["*"], "AllowMethods": ["*"], "AllowCredentials": True},
         "https://any", "PUT", "https://any"),
    ],
)  # fmt: skip
def test_preflight(cors: dict[str, Any], origin: str, method: str, allowed: str | None) -> None:
    headers = {"origin": origin, "access-control-request-method": method}
    assert url_events.is_preflight("OPTIONS", headers)
    got = dict(url_events.preflight(cors, headers).headers)
    assert got.get("access-control-allow-origin") == allowed
    if allowed == "https://app.example":
        assert got["access-control-max-age"] == "60"
        assert got["access-control-allow-headers"] == "x-token"


def test_actual_responses_get_the_platforms_cors_headers() -> None:
    answer = url_events.HttpAnswer(200, [("access-control-allow-origin", "*")], b"")
    got = url_events.with_cors(answer, CORS, "https://app.example").headers
    assert ("access-control-allow-origin", "https://app.example") in got
    assert ("access-control-expose-headers", "x-id") in got
    assert ("access-control-allow-origin", "*") not in got
    assert url_events.with_cors(answer, CORS, "https://evil.example") is answer


@pytest.mark.parametrize(
    ("host", "path", "target"),
    [
        (f"{URL_ID}.lambda-url.us-east-1.localhost:9000", b"/x?y", (URL_ID, b"/x?y")),
        (f"{URL_ID.upper()}.LAMBDA-URL.us-east-1.on.aws", b"/", (URL_ID, b"/")),
        ("127.0.0.1:9000", f"/lambkin/urls/{URL_ID}/a/b".encode(), (URL_ID, b"/a/b")),
        ("127.0.0.1:9000", f"/lambkin/urls/{URL_ID}".encode(), (URL_ID, b"/")),
        ("127.0.0.1:9000", b"/2015-03-31/functions", None),
        ("short.lambda-url.us-east-1.localhost", b"/", None),
        ("127.0.0.1", b"/lambkin/urls/../x", None),
    ],
)
def test_which_url_a_request_names(
    host: str, path: bytes, target: tuple[str, bytes] | None
) -> None:
    got = function_urls.target_of(host, path)
    assert (None if got is None else (got.url_id, got.raw_path)) == target


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"AuthType": "NONE"}, None),
        ({}, "1 validation error detected: Value null at 'authType' failed to satisfy constraint: "
             "Member must not be null"),
        ({"AuthType": "NONE", "InvokeMode": "UNKNOWN"},
         "1 validation error detected: Value 'UNKNOWN' at 'invokeMode' failed to satisfy "
         "constraint: Member must satisfy enum value set: [RESPONSE_STREAM, BUFFERED]"),
        ({"AuthType": "NONE", "Cors": {"MaxAge": 86401}}, "1 validation error detected"),
        ({"AuthType": "NONE", "Cors": {"AllowMethods": ["GET"] * 7}}, "1 validation error"),
        ({"AuthType": "x", "InvokeMode": "y"}, "2 validation errors detected"),
    ],
)  # fmt: skip
def test_config_fields(body: dict[str, Any], message: str | None) -> None:
    if message is None:
        assert function_urls.config_fields(body, creating=True)["auth_type"] == "NONE"
        return
    with pytest.raises(LambdaError) as refused:
        function_urls.config_fields(body, creating=True)
    assert refused.value.message.startswith(message), refused.value.message
    json.dumps(refused.value.message)


@pytest.mark.parametrize(
    ("buffered", "status", "headers", "rest"),
    [
        (b'{"statusCode": 201, "headers": {"x-a": "1"}}' + b"\0" * 8 + b"body", 201,
         [("x-a", "1"), ("content-type", "application/octet-stream")], b"body"),
        (b'{"statusCode": 200, "headers": {"Content-Type": "text/html"}, "cookies": ["c=1"]}'
         + b"\0" * 8, 200, [("content-type", "text/html"), ("set-cookie", "c=1")], b""),
        (b"{}" + b"\0" * 8 + b"x", 200, [("content-type", "application/octet-stream")], b"x"),
        (b"not json" + b"\0" * 8, 502, [("content-type", "text/plain")], b""),
    ],
)  # fmt: skip
def test_a_streamed_http_responses_prelude(
    buffered: bytes, status: int, headers: list[tuple[str, str]], rest: bytes
) -> None:
    split = url_events.split_prelude(buffered)
    assert split is not None
    head, body = split
    assert (head.status, head.headers, body) == (status, headers, rest)


def test_a_prelude_not_yet_ended_waits_and_an_endless_one_is_refused() -> None:
    assert url_events.split_prelude(b'{"statusCode": 200') is None
    refused = url_events.split_prelude(b"x" * (url_events.PRELUDE_MAX + 1))
    assert refused is not None and refused[0].status == 502
