"""The web console in a real browser (Chromium, driven by playwright-core), against a real
server with a credentials file, on the process driver and on Docker."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from tests.support.browser import run_browser_script
from tests.support.server import Server, start_server
from tests.support.signing import ALICE, send, write_credentials
from tests.support.zips import make_zip

FUNCTION = """
def handler(event, context):
    print("console log line", event.get("who"))
    return {"greeting": "hello " + str(event.get("who"))}
"""
NEW_CODE = """
def handler(event, context):
    print("console log line", event.get("who"))
    return {"greeting": "hello again " + str(event.get("who"))}
"""
FAILING = "def handler(event, context):\n    raise RuntimeError('goes to the dead letters')\n"
ROLE = "arn:aws:iam::000000000000:role/orders"


def dead_letter(server: Server, signed: bool) -> tuple[str, str]:
    """A function whose one asynchronous event failed for good: (its name, the request id)."""
    keys = {"access_key": ALICE.access_key, "secret_key": ALICE.secret_key} if signed else {}
    lam = server.client(**keys)
    name = f"console-dlq-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": FAILING})},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    lam.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=0)
    invoked = lam.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    request_id = invoked["ResponseMetadata"]["RequestId"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = send(
            "GET", f"{server.endpoint}/lambkin/dlq/{name}", user=ALICE if signed else None
        )
        if any(e["RequestId"] == request_id for e in answer.json()["Events"]):
            return name, request_id
        time.sleep(0.2)
    raise AssertionError(f"no dead letter for {request_id}: {server.log()[-2000:]}")


@pytest.mark.parametrize(
    ("driver", "signed"),
    [
        pytest.param("docker", True, marks=pytest.mark.docker, id="docker-signed-in"),
        pytest.param("process", True, id="process-signed-in"),
        pytest.param("process", False, id="process-open-loopback"),
    ],
)
def test_the_console_end_to_end(driver: str, signed: bool, tmp_path: Path) -> None:
    args: tuple[str, ...] = ()
    if signed:
        credentials = write_credentials(tmp_path / "credentials.toml")
        credentials.chmod(0o600)
        args = ("--credentials-file", str(credentials))
    server = start_server(driver, tmp_path / "data", args=args)
    zip_path = tmp_path / "fn.zip"
    zip_path.write_bytes(make_zip({"console_fn.py": FUNCTION}))
    new_zip = tmp_path / "new.zip"  # 4 MB that do not compress: an upload with progress to see
    new_zip.write_bytes(make_zip({"console_fn.py": NEW_CODE, "blob.bin": os.urandom(4 << 20)}))
    name = f"console-{driver}-{uuid.uuid4().hex[:6]}"
    try:
        dlq_function, dlq_request = dead_letter(server, signed)
        run = run_browser_script(
            "console_flow.mjs",
            {
                "CONSOLE_URL": server.endpoint,
                "ACCESS_KEY": ALICE.access_key,
                "SECRET_KEY": ALICE.secret_key,
                "ZIP_PATH": str(zip_path),
                "NEW_ZIP_PATH": str(new_zip),
                "FUNCTION_NAME": name,
                "EXPECT_LOG": "console log line console",
                "DLQ_FUNCTION": dlq_function,
                "DLQ_REQUEST_ID": dlq_request,
                # the README's pictures: LAMBKIN_CONSOLE_SCREENSHOTS=docs/console make test ...
                "SCREENSHOTS": os.environ.get("LAMBKIN_CONSOLE_SCREENSHOTS", "") if signed else "",
                "OPEN_SERVER": "" if signed else "1",
            },
            profile=tmp_path / "profile",
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.strip().endswith("step: done"), run.stdout
        keys = {"access_key": ALICE.access_key, "secret_key": ALICE.secret_key} if signed else {}
        lam = server.client(**keys)
        assert lam.get_function_configuration(FunctionName=name)["MemorySize"] == 256
    finally:
        assert server.stop() == 0, server.log()
