"""The access layer's Gate with functions' temporary credentials: a request botocore signed with
an instance's session (key, secret and token) is that role's session, with the role's
permissions from the credentials file; an expired, forged or missing token is refused as AWS
refuses it."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from orchestrator.actions import resolve_rest
from orchestrator.api.access import Gate
from orchestrator.credentials import Credentials, Role
from orchestrator.function_credentials import FunctionCredentials, SessionCredentials
from orchestrator.permissions import parse_permission
from orchestrator.sigv4 import AuthErrorCode, AuthFailure, IncomingRequest

ROLE = "arn:aws:iam::000000000000:role/orders"
URL = "http://172.18.0.1:9000/2015-03-31/functions/orders-b/invocations"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def signed(creds: SessionCredentials, token: str | None) -> IncomingRequest:
    request = AWSRequest("POST", URL, data=b"{}")
    SigV4Auth(
        BotoCredentials(creds.access_key_id, creds.secret_access_key, token), "lambda", "us-east-1"
    ).add_auth(request)
    prepared = request.prepare()
    parts = urlsplit(prepared.url)
    headers = [(name.lower(), value) for name, value in prepared.headers.items()]
    headers.append(("host", parts.netloc))
    return IncomingRequest("POST", parts.path, parts.query, headers, prepared.body or b"")


@pytest.fixture
def world() -> tuple[Gate, FunctionCredentials, Clock]:
    clock = Clock()
    sessions = FunctionCredentials(b"s" * 32, clock)
    roles = (Role(ROLE, (parse_permission("invoke:orders-*"),)),)
    gate = Gate(Credentials((), roles), "us-east-1", "000000000000", sessions=sessions)
    return gate, sessions, clock


def test_a_sessions_request_is_its_roles_session(
    world: tuple[Gate, FunctionCredentials, Clock],
) -> None:
    gate, sessions, _ = world
    creds = sessions.issue(ROLE, "orders-a", "i-1", 3600)
    call = resolve_rest("POST", "/2015-03-31/functions/orders-b/invocations", None)
    principal = gate.authenticate(signed(creds, creds.session_token), call)
    assert principal.arn == "arn:aws:sts::000000000000:assumed-role/orders/orders-a"
    assert principal.access_key_id == creds.access_key_id
    gate.authorize(principal, call)  # invoke:orders-* allows orders-b
    other = resolve_rest("POST", "/2015-03-31/functions/billing/invocations", None)
    with pytest.raises(AuthFailure) as caught:
        gate.authorize(principal, other)
    assert caught.value.code is AuthErrorCode.ACCESS_DENIED


@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        ("expire", AuthErrorCode.EXPIRED_TOKEN),
        ("forge", AuthErrorCode.UNRECOGNIZED_CLIENT),
        ("drop", AuthErrorCode.UNRECOGNIZED_CLIENT),  # the key alone is no user's
        ("swap", AuthErrorCode.UNRECOGNIZED_CLIENT),  # another instance's token
    ],
)
def test_spoiled_sessions_are_refused(
    world: tuple[Gate, FunctionCredentials, Clock], spoil: str, code: AuthErrorCode
) -> None:
    gate, sessions, clock = world
    creds = sessions.issue(ROLE, "orders-a", "i-1", 60)
    token: str | None = creds.session_token
    if spoil == "expire":
        clock.now += 61
    elif spoil == "forge":
        token = creds.session_token[:-4] + (
            "AAAA" if not creds.session_token.endswith("AAAA") else "BBBB"
        )
    elif spoil == "drop":
        token = None
    else:
        token = sessions.issue(ROLE, "orders-a", "i-2", 60).session_token
    call = resolve_rest("POST", "/2015-03-31/functions/orders-b/invocations", None)
    with pytest.raises(AuthFailure) as caught:
        gate.authenticate(signed(creds, token), call)
    assert caught.value.code is code
