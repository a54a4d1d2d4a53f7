"""Whether a server may start as configured (serve_safety.py), as a table."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.serve_safety import is_loopback, refusal, warnings

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
    ("host", "credentials", "insecure", "token", "mode", "says"),
    [
        (
            "0.0.0.0",
            None,
            True,
            "t",
            None,
            ["AUTHENTICATION IS OFF (--insecure-no-auth) on 0.0.0.0"],
        ),
        ("127.0.0.1", None, False, None, None, []),
        ("127.0.0.1", CREDS, False, None, 0o100600, []),
        ("0.0.0.0", CREDS, False, "t", 0o100600, []),
        (
            "0.0.0.0",
            CREDS,
            False,
            "t",
            0o100640,
            ["can be read by other users (mode 640): chmod 600"],
        ),
        (
            "0.0.0.0",
            CREDS,
            False,
            None,
            0o100400,
            ["/metrics is open to anyone who reaches 0.0.0.0"],
        ),
        ("0.0.0.0", None, True, None, None, ["AUTHENTICATION IS OFF", "/metrics is open"]),
    ],
)
def test_what_is_said_loudly_at_start(
    host: str,
    credentials: Path | None,
    insecure: bool,
    token: str | None,
    mode: int | None,
    says: list[str],
) -> None:
    said = warnings(host, credentials, insecure, token, mode)
    assert len(said) == len(says)
    for line, expected in zip(said, says, strict=True):
        assert expected in line
