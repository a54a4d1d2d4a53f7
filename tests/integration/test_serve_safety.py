"""Safe by default, on real server processes: without a credentials file the server listens on
loopback only and refuses any other address unless told `--insecure-no-auth` (then it warns);
a bad credentials file stops it with the key to fix; `/metrics` can ask for a bearer token."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.support.server import REPO_ROOT, free_port, start_server
from tests.support.signing import AUDITOR, send, write_credentials


def serve(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`lambkin serve` expected to refuse to start (it would otherwise run until the timeout)."""
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "serve", "--port", str(free_port()),
         "--driver", "process", "--data-dir", str(data_dir), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "400", **(env or {})},
    )  # fmt: skip


def one_line(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1"])
def test_a_public_address_without_credentials_refuses_to_start(tmp_path: Path, host: str) -> None:
    result = serve(tmp_path, "--host", host)
    assert result.returncode == 2, result.stderr
    said = one_line(result.stderr)
    assert f"refusing to listen on {host} without authentication" in said
    assert "Give --credentials-file PATH (or LAMBKIN_CREDENTIALS_FILE)" in said
    assert "--insecure-no-auth" in said
    assert not (tmp_path / "lambkin.db").exists()  # refused before anything was set up


def test_insecure_no_auth_starts_and_warns_loudly(tmp_path: Path) -> None:
    server = start_server("process", tmp_path, args=("--host", "0.0.0.0", "--insecure-no-auth"))
    try:
        assert server.client().list_functions()["Functions"] == []  # unsigned keys accepted
        warnings = [line for line in server.log().splitlines() if " WARNING " in line]
        assert any("AUTHENTICATION IS OFF (--insecure-no-auth) on 0.0.0.0" in w for w in warnings)
    finally:
        assert server.stop() == 0, server.log()


def test_insecure_no_auth_with_a_credentials_file_is_a_contradiction(tmp_path: Path) -> None:
    credentials = write_credentials(tmp_path / "credentials.toml")
    result = serve(tmp_path, "--credentials-file", str(credentials), "--insecure-no-auth")
    assert result.returncode == 2
    assert "contradict each other" in one_line(result.stderr)


def test_a_bad_credentials_file_stops_the_server_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "credentials.toml"
    bad.write_text(
        '[users.bob]\naccess_key_id = "AKIDBOB0000000000000"\n'
        'secret_access_key = "bob-secret-0000000000"\npermissions = ["deploy"]\n'
    )
    result = serve(tmp_path, "--credentials-file", str(bad))
    assert result.returncode == 2, result.stderr
    said = one_line(result.stderr)
    assert f"{bad}:1: users.bob.permissions[0]: 'deploy' needs a function-name pattern" in said
    missing = serve(tmp_path, "--credentials-file", str(tmp_path / "nope.toml"))
    assert missing.returncode == 2
    assert "cannot read the credentials file" in one_line(missing.stderr)


def test_the_credentials_file_from_the_environment_allows_a_public_address(tmp_path: Path) -> None:
    credentials = write_credentials(tmp_path / "credentials.toml")
    server = start_server(
        "process", tmp_path, args=("--host", "0.0.0.0"),
        env={"LAMBKIN_CREDENTIALS_FILE": str(credentials)},
    )  # fmt: skip
    try:
        url = f"{server.endpoint}/2015-03-31/functions"
        assert send("GET", url).error_type == "MissingAuthenticationTokenException"
        assert send("GET", url, user=AUDITOR).status == 200
        assert server.health()["status"] == "ok"  # /healthz stays open
    finally:
        assert server.stop() == 0, server.log()


def _non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the route
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_by_default_only_loopback_is_listened_on(tmp_path: Path) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("this machine has no address but loopback")
    server = start_server("process", tmp_path)
    try:
        port = int(server.endpoint.rsplit(":", 1)[1])
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, port), timeout=5).close()
    finally:
        assert server.stop() == 0, server.log()


def metrics(endpoint: str, token: str | None) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    request = urllib.request.Request(f"{endpoint}/metrics", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        assert error.headers.get("WWW-Authenticate", "").startswith("Bearer")
        return error.code, error.read().decode()


def test_the_metrics_token(tmp_path: Path) -> None:
    protected = start_server("process", tmp_path / "a", args=("--metrics-token", "s3cret-token"))
    from_env = start_server("process", tmp_path / "b", env={"LAMBKIN_METRICS_TOKEN": "env-token"})
    open_server = start_server("process", tmp_path / "c")
    try:
        assert metrics(protected.endpoint, None)[0] == 401
        assert metrics(protected.endpoint, "wrong")[0] == 401
        status, text = metrics(protected.endpoint, "s3cret-token")
        assert status == 200 and "lambkin_" in text
        assert metrics(from_env.endpoint, None)[0] == 401
        assert metrics(from_env.endpoint, "env-token")[0] == 200
        assert metrics(open_server.endpoint, None)[0] == 200
        assert protected.health()["status"] == "ok"
    finally:
        for server in (protected, from_env, open_server):
            assert server.stop() == 0, server.log()
