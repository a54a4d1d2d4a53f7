"""Functions' temporary credentials (orchestrator/function_credentials.py): issued, checked,
refused when forged, altered, swapped or expired."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from orchestrator.function_credentials import (
    MAX_LIFETIME_S,
    ExpiredSessionToken,
    FunctionCredentials,
    InvalidSessionToken,
    Session,
    SessionCredentials,
    load_or_create_key,
)

ROLE = "arn:aws:iam::000000000000:role/service/orders"
KEY = b"k" * 32


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_issued_credentials_verify_to_their_session_and_secret() -> None:
    clock = Clock()
    issuer = FunctionCredentials(KEY, clock)
    creds = issuer.issue(ROLE, "orders-api", "i-1", 3600)
    assert creds.access_key_id.startswith("ASIA") and len(creds.access_key_id) == 20
    assert len(creds.secret_access_key) == 40
    session, secret = issuer.verify(creds.access_key_id, creds.session_token)
    assert session == Session(ROLE, "orders-api", "i-1", clock.now + 3600)
    assert secret == creds.secret_access_key
    assert creds.environment() == {
        "AWS_ACCESS_KEY_ID": creds.access_key_id,
        "AWS_SECRET_ACCESS_KEY": creds.secret_access_key,
        "AWS_SESSION_TOKEN": creds.session_token,
    }


def test_two_issues_never_share_a_key_or_secret() -> None:
    issuer = FunctionCredentials(KEY, Clock())
    a, b = (issuer.issue(ROLE, "f", "i-1", 60) for _ in range(2))
    assert a.access_key_id != b.access_key_id
    assert a.secret_access_key != b.secret_access_key


def test_the_principal_is_the_roles_session_named_after_the_function() -> None:
    session = Session(ROLE, "orders-api", "i-1", 0)
    assert (
        session.principal_arn("000000000000")
        == "arn:aws:sts::000000000000:assumed-role/orders/orders-api"
    )


def _tampered(token: str, at: int) -> str:
    flipped = "A" if token[at] != "A" else "B"
    return token[:at] + flipped + token[at + 1 :]


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda t, other: other.session_token, id="another-keys-token"),
        pytest.param(lambda t, other: _tampered(t.session_token, 12), id="claims-altered"),
        pytest.param(lambda t, other: _tampered(t.session_token, -3), id="seal-altered"),
        pytest.param(lambda t, other: t.session_token.rsplit(".", 1)[0], id="seal-missing"),
        pytest.param(lambda t, other: "FwoGZXIvYXdzEJr//////////wEaDM", id="not-ours"),
        pytest.param(lambda t, other: "", id="empty"),
        pytest.param(lambda t, other: "lkn1.%%%.***", id="garbage"),
        pytest.param(
            lambda t, other: FunctionCredentials(b"x" * 32).issue(ROLE, "f", "i", 60).session_token,
            id="another-servers-key",
        ),
    ],
)
def test_forged_tokens_are_refused(
    forge: Callable[[SessionCredentials, SessionCredentials], str],
) -> None:
    issuer = FunctionCredentials(KEY, Clock())
    creds = issuer.issue(ROLE, "orders-api", "i-1", 3600)
    other = issuer.issue(ROLE, "orders-api", "i-2", 3600)
    with pytest.raises(InvalidSessionToken):
        issuer.verify(creds.access_key_id, forge(creds, other))


def test_a_token_expires_and_lifetimes_are_capped() -> None:
    clock = Clock()
    issuer = FunctionCredentials(KEY, clock)
    creds = issuer.issue(ROLE, "f", "i-1", 100)
    clock.now += 99
    issuer.verify(creds.access_key_id, creds.session_token)
    clock.now += 1
    with pytest.raises(ExpiredSessionToken):
        issuer.verify(creds.access_key_id, creds.session_token)
    long = issuer.issue(ROLE, "f", "i-2", float("inf"))
    assert long.expires_at == clock.now + MAX_LIFETIME_S


def test_the_key_is_made_once_and_private(tmp_path: Path) -> None:
    key = load_or_create_key(tmp_path / "data")
    assert len(key) == 32 and load_or_create_key(tmp_path / "data") == key
    mode = stat.S_IMODE(os.stat(tmp_path / "data" / "function-credentials.key").st_mode)
    assert mode == 0o600
    with pytest.raises(ValueError):
        FunctionCredentials(b"short")
