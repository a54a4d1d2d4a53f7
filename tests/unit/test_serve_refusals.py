"""Whether a server may start as configured (serve_safety.py), as a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.serve_safety import is_loopback, refusal, warning

CREDS = Path("/etc/lambkin/credentials.toml")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.53", True), ("::1", True), ("[::1]", True),
     ("localhost", True), ("LOCALHOST", True), ("0.0.0.0", False), ("::", False),
     ("192.168.1.4", False), ("lambkin.example", False)],
)  # fmt: skip
def test_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("host", "credentials", "insecure", "says"),
    [
        ("127.0.0.1", None, False, None),
        ("localhost", None, False, None),
        ("0.0.0.0", CREDS, False, None),
        ("0.0.0.0", None, True, None),
        ("0.0.0.0", None, False, "refusing to listen on 0.0.0.0 without authentication"),
        ("10.1.2.3", None, False, "Give --credentials-file PATH (or LAMBKIN_CREDENTIALS_FILE)"),
        ("::", None, False, "or --insecure-no-auth"),
        ("127.0.0.1", CREDS, True, "contradict each other"),
    ],
)  # fmt: skip
def test_authentication_or_loopback(
    host: str, credentials: Path | None, insecure: bool, says: str | None
) -> None:
    answer = refusal(host, credentials, insecure, None, None)
    assert answer is None if says is None else answer is not None and says in answer


def test_tls_takes_both_files(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("x")
    key.write_text("x")
    assert refusal("127.0.0.1", None, False, cert, key) is None
    assert "--tls-cert needs --tls-key too" in str(refusal("127.0.0.1", None, False, cert, None))
    assert "--tls-key needs --tls-cert too" in str(refusal("127.0.0.1", None, False, None, key))
    missing = tmp_path / "gone.pem"
    assert f"--tls-key {missing}: no such file" == refusal("127.0.0.1", None, False, cert, missing)


@pytest.mark.parametrize(
    ("credentials", "insecure", "loud"),
    [(None, True, True), (None, False, False), (CREDS, False, False)],
)
def test_insecure_is_said_loudly(credentials: Path | None, insecure: bool, loud: bool) -> None:
    said = warning("0.0.0.0", credentials, insecure)
    assert (said is not None and "AUTHENTICATION IS OFF" in said) is loud
