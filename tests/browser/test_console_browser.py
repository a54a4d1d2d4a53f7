"""The web console in a real browser (Chromium, driven by playwright-core), against a real
server with a credentials file, on the process driver and on Docker."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.support.browser import run_browser_script
from tests.support.server import start_server
from tests.support.signing import ALICE, write_credentials
from tests.support.zips import make_zip

FUNCTION = """
def handler(event, context):
    print("console log line", event.get("who"))
    return {"greeting": "hello " + str(event.get("who"))}
"""


@pytest.mark.parametrize("driver", [pytest.param("docker", marks=pytest.mark.docker), "process"])
def test_sign_in_create_invoke_and_edit(driver: str, tmp_path: Path) -> None:
    credentials = write_credentials(tmp_path / "credentials.toml")
    credentials.chmod(0o600)
    server = start_server(driver, tmp_path / "data", args=("--credentials-file", str(credentials)))
    zip_path = tmp_path / "fn.zip"
    zip_path.write_bytes(make_zip({"console_fn.py": FUNCTION}))
    name = f"console-{driver}-{uuid.uuid4().hex[:6]}"
    try:
        run = run_browser_script(
            "console_flow.mjs",
            {
                "CONSOLE_URL": server.endpoint,
                "ACCESS_KEY": ALICE.access_key,
                "SECRET_KEY": ALICE.secret_key,
                "ZIP_PATH": str(zip_path),
                "FUNCTION_NAME": name,
                "EXPECT_LOG": "console log line console",
            },
            profile=tmp_path / "profile",
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.strip().endswith("step: done"), run.stdout
        lam = server.client(access_key=ALICE.access_key, secret_key=ALICE.secret_key)
        assert lam.get_function_configuration(FunctionName=name)["MemorySize"] == 256
    finally:
        assert server.stop() == 0, server.log()
