"""The SigV4 verifier, against requests signed by botocore itself (as boto3 and the AWS CLI sign
them), and the same requests altered in each way AWS refuses."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from orchestrator.sigv4 import (
    BAD_SIGNATURE_MESSAGE,
    AuthErrorCode,
    AuthFailure,
    IncomingRequest,
    verify,
)

KEY, SECRET = "AKIDALICE0000000000", "alice-secret-0000000000"
SECRETS = {KEY: SECRET}
INVOKE_URL = (
    "http://127.0.0.1:9000/2015-03-31/functions/"
    "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders-a/invocations"
    "?Qualifier=%24LATEST"
)


def signed(
    method: str = "POST",
    url: str = INVOKE_URL,
    body: bytes = b'{"order": 1}',
    headers: dict[str, str] | None = None,
    key: str = KEY,
    secret: str = SECRET,
    service: str = "lambda",
) -> tuple[IncomingRequest, datetime]:
    """A request signed by botocore now, as the server receives it; and the signing time."""
    request = AWSRequest(method, url, data=body, headers=headers or {})
    SigV4Auth(Credentials(key, secret), service, "us-east-1").add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    arrived = [(name.lower(), value) for name, value in prepared.headers.items()]
    arrived.append(("host", parts.netloc))  # what the HTTP client adds
    at = datetime.strptime(request.headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return IncomingRequest(method, parts.path, parts.query, arrived, prepared.body or b""), at


def check(request: IncomingRequest, now: datetime, services: set[str] | None = None) -> str:
    return verify(request, SECRETS.get, services or {"lambda"}, now)


def refusal(
    request: IncomingRequest, now: datetime, services: set[str] | None = None
) -> AuthFailure:
    with pytest.raises(AuthFailure) as caught:
        check(request, now, services)
    return caught.value


@pytest.mark.parametrize(
    ("method", "url", "body", "headers"),
    [
        ("POST", INVOKE_URL, b'{"order": 1}', {"X-Amz-Invocation-Type": "Event"}),
        ("GET", "http://localhost:9000/2015-03-31/functions/?MaxItems=5&Marker=b%2Fc", b"", {}),
        ("DELETE", "http://h:1/2015-03-31/functions/orders-a", b"", {}),
        ("PUT", "https://lambkin.example:8443/2017-10-31/functions/f/concurrency", b"{}", {}),
        (
            "POST",
            "http://h/2015-03-31/functions",
            b"\x00\xff" * 1000,
            {"Content-Type": "application/json"},
        ),
    ],
)
def test_botocore_signed_requests_verify(
    method: str, url: str, body: bytes, headers: dict[str, str]
) -> None:
    request, at = signed(method, url, body, headers)
    assert check(request, at) == KEY
    assert check(request, at + timedelta(minutes=4, seconds=59)) == KEY  # within the skew
    assert check(request, at - timedelta(minutes=4, seconds=59)) == KEY


def test_logs_requests_are_signed_for_logs() -> None:
    request, at = signed(
        "POST", "http://h/", b"{}", {"X-Amz-Target": "Logs_20140328.GetLogEvents"}, service="logs"
    )
    assert check(request, at, {"logs"}) == KEY
    failure = refusal(request, at, {"lambda"})
    assert failure.code is AuthErrorCode.INVALID_SIGNATURE
    assert "Credential should be scoped to correct service: 'lambda'" in failure.message


def _with_header(request: IncomingRequest, name: str, value: str) -> IncomingRequest:
    kept = [(k, v) for k, v in request.headers if k != name]
    return dataclasses.replace(request, headers=[*kept, (name, value)])


ALTERATIONS: list[tuple[str, Callable[[IncomingRequest], IncomingRequest]]] = [
    ("body", lambda r: dataclasses.replace(r, body=b'{"order": 2}')),
    ("method", lambda r: dataclasses.replace(r, method="PUT")),
    ("path", lambda r: dataclasses.replace(r, raw_path=r.raw_path.replace("orders-a", "orders-b"))),
    ("query", lambda r: dataclasses.replace(r, query_string="Qualifier=1")),
    ("signed header", lambda r: _with_header(r, "x-amz-invocation-type", "DryRun")),
    ("host", lambda r: _with_header(r, "host", "elsewhere:9000")),
]


@pytest.mark.parametrize(("what", "alter"), ALTERATIONS, ids=[what for what, _ in ALTERATIONS])
def test_any_alteration_breaks_the_signature(
    what: str, alter: Callable[[IncomingRequest], IncomingRequest]
) -> None:
    request, at = signed(headers={"X-Amz-Invocation-Type": "RequestResponse"})
    failure = refusal(alter(request), at)
    assert (failure.code, failure.message) == (
        AuthErrorCode.INVALID_SIGNATURE,
        BAD_SIGNATURE_MESSAGE,
    )


def test_an_unsigned_header_added_on_the_way_is_no_alteration() -> None:
    request, at = signed()
    assert check(_with_header(request, "x-forwarded-for", "10.0.0.1"), at) == KEY


def test_a_wrong_secret_is_a_bad_signature() -> None:
    request, at = signed(secret="not-alices-secret-000000")
    failure = refusal(request, at)
    assert (failure.code, failure.message) == (
        AuthErrorCode.INVALID_SIGNATURE,
        BAD_SIGNATURE_MESSAGE,
    )


def test_an_unknown_key_is_an_unrecognized_client() -> None:
    request, at = signed(key="AKIDNOBODY0000000000")
    failure = refusal(request, at)
    assert failure.code is AuthErrorCode.UNRECOGNIZED_CLIENT
    assert failure.message == "The security token included in the request is invalid."


def test_no_authorization_is_a_missing_token() -> None:
    request, at = signed()
    unsigned = dataclasses.replace(
        request, headers=[(k, v) for k, v in request.headers if k != "authorization"]
    )
    failure = refusal(unsigned, at)
    assert (failure.code, failure.message) == (
        AuthErrorCode.MISSING_TOKEN,
        "Missing Authentication Token",
    )


def test_a_signature_past_the_skew_has_expired_in_aws_words() -> None:
    request, at = signed()
    now = at + timedelta(minutes=5, seconds=1)
    failure = refusal(request, now)
    stamp = at.strftime("%Y%m%dT%H%M%SZ")
    earliest = (now - timedelta(minutes=5)).strftime("%Y%m%dT%H%M%SZ")
    assert failure.code is AuthErrorCode.INVALID_SIGNATURE
    assert failure.message == (
        f"Signature expired: {stamp} is now earlier than {earliest} "
        f"({now.strftime('%Y%m%dT%H%M%SZ')} - 5 min.)"
    )


def test_a_signature_from_the_future_is_not_yet_current() -> None:
    request, at = signed()
    failure = refusal(request, at - timedelta(minutes=6))
    assert failure.code is AuthErrorCode.INVALID_SIGNATURE
    assert failure.message.startswith(
        f"Signature not yet current: {at:%Y%m%dT%H%M%SZ} is still later than"
    )


def test_the_declared_payload_hash_must_be_the_body_s() -> None:
    body = b'{"order": 1}'
    good, at = signed(body=body, headers={"X-Amz-Content-SHA256": hashlib.sha256(body).hexdigest()})
    assert check(good, at) == KEY
    lying, at = signed(
        body=body, headers={"X-Amz-Content-SHA256": hashlib.sha256(b"other").hexdigest()}
    )
    failure = refusal(lying, at)
    assert failure.code is AuthErrorCode.INVALID_SIGNATURE
    assert "x-amz-content-sha256" in failure.message
    unsigned_payload, at = signed(body=body, headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    assert refusal(unsigned_payload, at).code is AuthErrorCode.INVALID_SIGNATURE


@pytest.mark.parametrize(
    ("authorization", "says"),
    [
        ("Bearer abc", "AWS4-HMAC-SHA256"),
        (
            f"AWS4-HMAC-SHA256 Credential={KEY}/20261202/us-east-1/lambda/aws4_request",
            "requires 'SignedHeaders' parameter",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDALICE0000000000, SignedHeaders=host, Signature=ab",
            "Credential should be scoped",
        ),
    ],
)
def test_malformed_authorization_is_an_incomplete_signature(authorization: str, says: str) -> None:
    request, at = signed()
    failure = refusal(_with_header(request, "authorization", authorization), at)
    assert failure.code is AuthErrorCode.INCOMPLETE_SIGNATURE
    assert says in failure.message


@pytest.mark.parametrize("amz_date", ["2026-12-02T14:00:00Z", "20261302T140000Z", "20261202T1400Z"])
def test_an_unreadable_date_is_an_incomplete_signature(amz_date: str) -> None:
    request, at = signed()
    failure = refusal(_with_header(request, "x-amz-date", amz_date), at)
    assert failure.code is AuthErrorCode.INCOMPLETE_SIGNATURE
    assert "X-Amz-Date must be in the ISO8601 basic format" in failure.message


def test_a_date_not_signed_is_an_incomplete_signature() -> None:
    request, at = signed()
    authorization = request.header("authorization") or ""
    unsigned_date = authorization.replace(";x-amz-date", "")
    failure = refusal(_with_header(request, "authorization", unsigned_date), at)
    assert failure.code is AuthErrorCode.INCOMPLETE_SIGNATURE
