"""The `lambkin` client commands sign their requests as the AWS CLI does, with the keys the AWS
tools find (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws/credentials), so they
work against a server with a credentials file. Without keys they send unsigned requests, which a
server without one accepts.
"""

from __future__ import annotations

import functools

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from botocore.session import Session

# Where a workstation keeps keys; the cloud providers (instance metadata, containers) are left
# out: off a cloud machine each would wait for its timeout on every command.
_KEPT_PROVIDERS = ("env", "assume-role", "shared-credentials-file", "custom-process", "config-file")


@functools.cache  # one look-up per process: `lambkin logs --follow` signs several times a second
def _keys() -> tuple[ReadOnlyCredentials | None, str]:
    session = Session()
    resolver = session.get_component("credential_provider")
    resolver.providers = [p for p in resolver.providers if p.METHOD in _KEPT_PROVIDERS]
    credentials = resolver.load_credentials()
    region = session.get_config_variable("region") or "us-east-1"
    return (credentials.get_frozen_credentials() if credentials else None), region


def signed_headers(
    method: str, url: str, body: bytes | None, headers: dict[str, str], service: str
) -> dict[str, str]:
    """`headers` plus the SigV4 headers for this request, when the AWS tools find keys."""
    credentials, region = _keys()
    if credentials is None:
        return headers
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    SigV4Auth(credentials, service, region).add_auth(request)
    return dict(request.headers.items())
