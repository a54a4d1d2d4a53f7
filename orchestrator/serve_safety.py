"""Whether a server may start as configured: pure checks of the address, the authentication and
the TLS options, each refusal saying what to do instead (tested with tables).

Deploying code is running code, so an API without authentication is an open machine: without a
credentials file the server listens on loopback only, unless the operator says
`--insecure-no-auth`, and then it says so loudly.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


def refusal(
    host: str,
    credentials_file: Path | None,
    insecure_no_auth: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> str | None:
    """Why the server must not start so (None: it may)."""
    if credentials_file is not None and insecure_no_auth:
        return (
            "--insecure-no-auth and a credentials file contradict each other: "
            "drop --insecure-no-auth to authenticate requests, or the credentials file to not"
        )
    if credentials_file is None and not insecure_no_auth and not is_loopback(host):
        return (
            f"refusing to listen on {host} without authentication: anyone who reaches it could "
            "deploy and run code. Give --credentials-file PATH (or LAMBKIN_CREDENTIALS_FILE) "
            "to require AWS-signed requests, or --insecure-no-auth if this network is yours alone"
        )
    if (tls_cert is None) != (tls_key is None):
        given, missing = (
            ("--tls-cert", "--tls-key") if tls_key is None else ("--tls-key", "--tls-cert")
        )
        return f"{given} needs {missing} too: TLS takes the certificate and its private key"
    for option, path in (("--tls-cert", tls_cert), ("--tls-key", tls_key)):
        if path is not None and not path.is_file():
            return f"{option} {path}: no such file"
    return None


def warnings(
    host: str,
    credentials_file: Path | None,
    insecure_no_auth: bool,
    metrics_token: str | None,
    credentials_mode: int | None = None,
) -> list[str]:
    """What the server must say loudly at start. `credentials_mode` is the credentials file's
    permission bits (None: no file)."""
    said = []
    if insecure_no_auth and credentials_file is None:
        said.append(
            f"AUTHENTICATION IS OFF (--insecure-no-auth) on {host}: every request is accepted, "
            "anyone who can reach this address can deploy and run code on this machine"
        )
    if credentials_mode is not None and credentials_mode & 0o077:
        said.append(
            f"the credentials file {credentials_file} can be read by other users "
            f"(mode {credentials_mode & 0o777:o}): chmod 600 it"
        )
    if not is_loopback(host) and metrics_token is None:
        said.append(
            f"/metrics is open to anyone who reaches {host} (function names, rates): "
            "give --metrics-token to protect it"
        )
    return said
