"""A real Lambkin server in a subprocess, and a boto3 client for it."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]

# A boto3 client for a running server. boto3 has no types (see the mypy overrides in
# pyproject.toml), so this names the role, not a checked interface.
Client = Any

# Every server id this test session started, so the end-of-session check looks only at what
# the suite itself owns (a benchmark may be running beside it).
STARTED_SERVER_IDS: set[str] = set()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    endpoint: str
    process: subprocess.Popen[bytes]
    data_dir: Path
    driver: str
    log_path: Path
    ca_file: Path | None = None  # the certificate to trust, for a server serving TLS

    def health(self) -> dict[str, Any]:
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        with urllib.request.urlopen(
            f"{self.endpoint}/healthz", timeout=5, context=context
        ) as response:
            health: dict[str, Any] = json.loads(response.read())
        return health

    def client(
        self,
        service: str = "lambda",
        access_key: str = "test",
        secret_key: str = "test",
        **config: Any,
    ) -> Client:
        """A boto3 client; a server with a credentials file needs one of its users' keys."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            verify=str(self.ca_file) if self.ca_file else None,
            # No retries: tests see every answer.
            config=Config(**{"retries": {"total_max_attempts": 1}, "read_timeout": 120, **config}),
        )

    def instances(self, function: str | None = None) -> list[dict[str, Any]]:
        url = f"{self.endpoint}/lambkin/instances" + (f"?function={function}" if function else "")
        with urllib.request.urlopen(url, timeout=5) as response:
            instances: list[dict[str, Any]] = json.loads(response.read())["Instances"]
        return instances

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        """Signal the server and wait; a graceful SIGTERM exit reads as 0.

        uvicorn re-raises SIGTERM after its graceful shutdown, so the raw status is -15.
        """
        if self.process.poll() is None:
            self.process.send_signal(sig)
        status = self.process.wait(timeout=timeout)
        return 0 if sig == signal.SIGTERM and status == -signal.SIGTERM else status

    def log_messages(self, function: str, containing: str, timeout: float = 15) -> list[str]:
        """The function's stored log messages, once one holds `containing` (or the timeout
        passed: the caller asserts)."""
        logs = self.client("logs")
        deadline = time.monotonic() + timeout
        while True:
            try:
                events = logs.filter_log_events(logGroupName=f"/aws/lambda/{function}")["events"]
            except logs.exceptions.ResourceNotFoundException:
                events = []  # nothing logged yet: the group comes with the first line
            found = [str(event["message"]) for event in events]
            if any(containing in m for m in found) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(
    driver: str,
    data_dir: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    ca_file: Path | None = None,
) -> Server:
    """A server on `driver`; `args` are more `lambkin serve` options (--credentials-file, TLS:
    then give `ca_file`, the certificate to trust, and the endpoint is https)."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orchestrator",
            "serve",
            "--port",
            str(port),
            "--driver",
            driver,
            "--data-dir",
            str(data_dir),
            *args,
        ],
        cwd=REPO_ROOT,
        stdout=open(log_path, "ab"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **(env or {})},
    )
    scheme = "https" if "--tls-cert" in args else "http"
    server = Server(f"{scheme}://127.0.0.1:{port}", process, data_dir, driver, log_path, ca_file)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{server.log()}")
        try:
            STARTED_SERVER_IDS.add(server.health()["server_id"])
            return server
        except OSError:
            time.sleep(0.05)
    server.stop(signal.SIGKILL)
    raise RuntimeError(f"server did not become healthy:\n{server.log()}")


def create_and_invoke(
    server: Server, code: bytes, runtime: str = "python3.11", handler: str = "app.handler"
) -> Any:
    """Create a function from the zip `code`, wait until it is Active, invoke it once with `{}`
    and return its answer, which must not be a function error."""
    lam = server.client()
    name = f"fn-{uuid.uuid4().hex[:12]}"
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role="arn:aws:iam::123456789012:role/lambda-role",
        Handler=handler,
        Code={"ZipFile": code},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    response = lam.invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body
