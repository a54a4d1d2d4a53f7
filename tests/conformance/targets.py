"""Where the conformance suite runs a function: a Lambkin server (docker or process driver), or
AWS's Runtime Interface Emulator running our runtime client directly (`rie`).

Each target deploys a task root under a handler and answers invocations with a `Result`, so one
scenario reads the same against all of them.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tests.conformance.variants import Variant
from tests.support.oracles import rie_binary
from tests.support.processes import stop_process
from tests.support.server import Server, free_port
from tests.support.zips import zip_tree

ROLE = "arn:aws:iam::123456789012:role/conformance"
MEMORY_MB = 512
INVOKE_PATH = "/2015-03-31/functions/function/invocations"


@dataclass
class Result:
    payload: bytes
    function_error: bool
    request_id: str | None  # None where the target does not say (RIE)
    log: str  # this invocation's log lines (the tail, START to REPORT)
    seconds: float  # wall time of the invocation, as the invoker saw it

    def json(self) -> Any:
        return json.loads(self.payload)


class Function(Protocol):
    name: str

    def invoke(self, event: Any = None, raw: bytes | None = None) -> Result: ...

    def close(self) -> None:
        """Remove the function (and stop its instances)."""


class Target(Protocol):
    name: str

    def deploy(
        self,
        variant: Variant,
        root: Path,
        handler: str,
        *,
        timeout: int = 30,
        env: dict[str, str] | None = None,
    ) -> Function: ...

    def close(self) -> None: ...


def _payload(event: Any, raw: bytes | None) -> bytes:
    return (
        raw
        if raw is not None
        else json.dumps(event if event is not None else {}, ensure_ascii=False).encode()
    )


# --- a Lambkin server, through boto3 ----------------------------------------------------------


class ServerFunction:
    def __init__(self, lam: Any, name: str) -> None:
        self._lam = lam
        self.name = name

    def invoke(self, event: Any = None, raw: bytes | None = None) -> Result:
        started = time.monotonic()
        response = self._lam.invoke(
            FunctionName=self.name, Payload=_payload(event, raw), LogType="Tail"
        )
        payload = response["Payload"].read()
        seconds = time.monotonic() - started
        log = base64.b64decode(response.get("LogResult", "")).decode("utf-8", "replace")
        return Result(
            payload,
            "FunctionError" in response,
            response["ResponseMetadata"]["RequestId"],
            log,
            seconds,
        )

    def close(self) -> None:
        self._lam.delete_function(FunctionName=self.name)


class ServerTarget:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.name = server.driver
        self._lam = server.client()

    def deploy(
        self,
        variant: Variant,
        root: Path,
        handler: str,
        *,
        timeout: int = 30,
        env: dict[str, str] | None = None,
    ) -> ServerFunction:
        name = f"c-{variant.id.replace('.', '')}-{uuid.uuid4().hex[:8]}"
        self._lam.create_function(
            FunctionName=name,
            Runtime=variant.runtime,
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": zip_tree(root, {}, executable=("bootstrap",))},
            Timeout=timeout,
            MemorySize=MEMORY_MB,
            Environment={"Variables": env or {}},
        )
        self._lam.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 1}
        )
        return ServerFunction(self._lam, name)

    def close(self) -> None:
        assert self.server.stop() == 0, self.server.log()[-3000:]


# --- AWS's Runtime Interface Emulator, running our client directly ----------------------------


class RieFunction:
    """One aws-lambda-rie process with the variant's runtime command, serving one at a time."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.name = "function"
        self.port = free_port()
        self._log_path = log
        self._log = open(log, "wb")  # noqa: SIM115 -- closed by close(), after the process
        self.process = subprocess.Popen(
            [
                str(rie_binary()),
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{self.port}",
                "--runtime-api-address",
                f"127.0.0.1:{free_port()}",
                *command,
            ],
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self._log_path.read_bytes().decode("utf-8", "replace")

    def invoke(self, event: Any = None, raw: bytes | None = None) -> Result:
        before = len(self._log_path.read_bytes())
        started = time.monotonic()
        deadline = started + 10
        while True:  # RIE needs a moment to listen
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                connection.request("POST", INVOKE_PATH, _payload(event, raw))
                break
            except ConnectionRefusedError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.02)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        seconds = time.monotonic() - started
        # RIE prints END and REPORT after answering: wait for them, so the log is complete.
        log = ""
        wait_until = time.monotonic() + (3 if response.status == 200 else 0.2)
        while time.monotonic() < wait_until:
            log = self._log_path.read_bytes()[before:].decode("utf-8", "replace")
            if "REPORT RequestId" in log:
                break
            time.sleep(0.02)
        return Result(body, response.status != 200 or _is_error_document(body), None, log, seconds)

    def close(self) -> None:
        stop_process(self.process)
        self._log.close()


def _is_error_document(body: bytes) -> bool:
    try:
        parsed = json.loads(body)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "errorType" in parsed and "errorMessage" in parsed


class RieTarget:
    name = "rie"

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir
        self._functions: list[RieFunction] = []

    def deploy(
        self,
        variant: Variant,
        root: Path,
        handler: str,
        *,
        timeout: int = 30,
        env: dict[str, str] | None = None,
    ) -> RieFunction:
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": str(root),
            "AWS_LAMBDA_FUNCTION_NAME": "function",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(MEMORY_MB),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(timeout),
            "AWS_REGION": "us-east-1",
            **(env or {}),
        }
        if variant.sources == "python3.11":
            environment["PYTHONPATH"] = str(
                Path(__file__).resolve().parents[2] / "runtime-images" / "python"
            )
        log = self._workdir / f"rie-{uuid.uuid4().hex[:8]}.log"
        function = RieFunction(variant.local_command(root), environment, root, log)
        self._functions.append(function)
        return function

    def close(self) -> None:
        for function in self._functions:
            function.close()
