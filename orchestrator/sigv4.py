"""Verifying AWS Signature Version 4, as every AWS SDK and the AWS CLI sign their requests.

The expected signature is computed by botocore's own signer (`SigV4Auth`) over the request as it
arrived: the raw path and query, the headers the client says it signed, the body. Nothing of the
canonical form or the HMAC chain is written here; only what AWS checks around it: the header's
shape, the key, the 5-minute clock skew, the payload hash, a constant-time comparison. Failures
carry AWS's error codes and wording (`AuthFailure`), which `api/access.py` renders.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

ALGORITHM = "AWS4-HMAC-SHA256"
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
CLOCK_SKEW = timedelta(minutes=5)  # AWS's: a signature is good 5 minutes either side of now


class AuthErrorCode(StrEnum):
    """AWS's answers to a request it will not authenticate or authorise."""

    MISSING_TOKEN = "MissingAuthenticationTokenException"
    INCOMPLETE_SIGNATURE = "IncompleteSignatureException"
    UNRECOGNIZED_CLIENT = "UnrecognizedClientException"
    INVALID_SIGNATURE = "InvalidSignatureException"
    ACCESS_DENIED = "AccessDeniedException"
    EXPIRED_TOKEN = "ExpiredTokenException"


MISSING_TOKEN_MESSAGE = "Missing Authentication Token"
EXPIRED_TOKEN_MESSAGE = "The security token included in the request is expired"
UNRECOGNIZED_CLIENT_MESSAGE = "The security token included in the request is invalid."
BAD_SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)


class AuthFailure(Exception):
    def __init__(self, code: AuthErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class IncomingRequest:
    """A request as it arrived, before any decoding: what the client signed."""

    method: str
    raw_path: str  # percent-encoded, as sent
    query_string: str  # as sent, without the `?`
    headers: Sequence[tuple[str, str]]  # names lower-case, in arrival order, repeats kept
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name), None)


@dataclass(frozen=True)
class Authorization:
    """The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header."""

    access_key_id: str
    date: str  # YYYYMMDD of the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(value: str) -> Authorization:
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise AuthFailure(
            AuthErrorCode.INCOMPLETE_SIGNATURE,
            f"Authorization header requires the {ALGORITHM} algorithm (AWS Signature Version 4).",
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        key, equals, part = item.strip().partition("=")
        if equals:
            parts[key] = part
    missing = [key for key in ("Credential", "SignedHeaders", "Signature") if not parts.get(key)]
    if missing:
        raise AuthFailure(
            AuthErrorCode.INCOMPLETE_SIGNATURE,
            " ".join(f"Authorization header requires '{key}' parameter." for key in missing)
            + f" Authorization={value}",
        )
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        raise AuthFailure(
            AuthErrorCode.INCOMPLETE_SIGNATURE,
            "Credential should be scoped to a valid region, service and date: "
            "<key>/<YYYYMMDD>/<region>/<service>/aws4_request.",
        )
    return Authorization(
        access_key_id=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=tuple(parts["SignedHeaders"].split(";")),
        signature=parts["Signature"],
    )


def _parse_amz_date(text: str) -> datetime:
    """`20261202T140000Z`; by hand, since strptime takes a tenth of a verification."""
    if len(text) != 16 or text[8] != "T" or text[15] != "Z" or not text[:8].isdigit():
        raise ValueError(text)
    if not text[9:15].isdigit():
        raise ValueError(text)
    return datetime(
        int(text[0:4]), int(text[4:6]), int(text[6:8]),
        int(text[9:11]), int(text[11:13]), int(text[13:15]), tzinfo=UTC,
    )  # fmt: skip


def check_clock(amz_date: str, now: datetime) -> None:
    """Refuse a signature made more than 5 minutes before or after `now`, in AWS's words."""
    try:
        signed_at = _parse_amz_date(amz_date)
    except ValueError:
        raise AuthFailure(
            AuthErrorCode.INCOMPLETE_SIGNATURE,
            f"X-Amz-Date must be in the ISO8601 basic format YYYYMMDD'T'HHMMSS'Z': {amz_date!r}",
        ) from None
    stamp = now.strftime(AMZ_DATE_FORMAT)
    if signed_at < now - CLOCK_SKEW:
        earliest = (now - CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)
        raise AuthFailure(
            AuthErrorCode.INVALID_SIGNATURE,
            f"Signature expired: {amz_date} is now earlier than {earliest} ({stamp} - 5 min.)",
        )
    if signed_at > now + CLOCK_SKEW:
        latest = (now + CLOCK_SKEW).strftime(AMZ_DATE_FORMAT)
        raise AuthFailure(
            AuthErrorCode.INVALID_SIGNATURE,
            f"Signature not yet current: {amz_date} is still later than {latest} "
            f"({stamp} + 5 min.)",
        )


def expected_signature(
    request: IncomingRequest, authorization: Authorization, amz_date: str, secret: str
) -> str:
    """The signature botocore computes for this request with this secret."""
    signed = set(authorization.signed_headers)
    query = f"?{request.query_string}" if request.query_string else ""
    # The host only completes the URL: the `host` header itself is signed like any other.
    aws_request = AWSRequest(
        method=request.method, url=f"http://lambkin{request.raw_path}{query}", data=request.body
    )
    for name, value in request.headers:
        if name in signed:
            aws_request.headers[name] = value  # appends: repeated headers stay repeated
    aws_request.context["timestamp"] = amz_date
    signer = SigV4Auth(
        ReadOnlyCredentials(authorization.access_key_id, secret, None),
        authorization.service,
        authorization.region,
    )
    canonical = signer.canonical_request(aws_request)
    return str(signer.signature(signer.string_to_sign(aws_request, canonical), aws_request))


def verify(
    request: IncomingRequest,
    secret_for: Callable[[str], str | None],
    services: Collection[str],
    now: datetime,
) -> str:
    """The access key id of a correctly signed request, or AuthFailure saying why not.

    `secret_for` looks up an access key's secret (None: unknown key); `services` are the signing
    names this endpoint answers to (`lambda`, `logs`)."""
    value = request.header("authorization")
    if value is None:
        raise AuthFailure(AuthErrorCode.MISSING_TOKEN, MISSING_TOKEN_MESSAGE)
    authorization = parse_authorization(value)
    secret = secret_for(authorization.access_key_id)
    if secret is None:
        raise AuthFailure(AuthErrorCode.UNRECOGNIZED_CLIENT, UNRECOGNIZED_CLIENT_MESSAGE)
    if authorization.service not in services:
        raise AuthFailure(
            AuthErrorCode.INVALID_SIGNATURE,
            f"Credential should be scoped to correct service: '{sorted(services)[0]}'. ",
        )
    amz_date = request.header("x-amz-date")
    if amz_date is None or "x-amz-date" not in authorization.signed_headers:
        raise AuthFailure(
            AuthErrorCode.INCOMPLETE_SIGNATURE,
            "Authorization header requires existence of a signed 'X-Amz-Date' header.",
        )
    check_clock(amz_date, now)
    declared_hash = request.header("x-amz-content-sha256")
    if declared_hash is not None and not hmac.compare_digest(
        declared_hash.encode(), hashlib.sha256(request.body).hexdigest().encode()
    ):
        raise AuthFailure(
            AuthErrorCode.INVALID_SIGNATURE,
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        )
    expected = expected_signature(request, authorization, amz_date, secret)
    if not hmac.compare_digest(expected.encode(), authorization.signature.encode()):
        raise AuthFailure(AuthErrorCode.INVALID_SIGNATURE, BAD_SIGNATURE_MESSAGE)
    return authorization.access_key_id
