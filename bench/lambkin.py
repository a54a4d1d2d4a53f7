"""Lambkin under test: a real server (`python -m orchestrator serve`) driven through its public API.

Functions are deployed with boto3 (CreateFunction, as any user would); invocations under load go
through the same public Invoke route, POST /2015-03-31/functions/NAME/invocations, from the load
generator.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.server import Server, start_server
from tests.support.zips import make_zip

from . import sysinfo
from .loadgen import Target

ROLE = "arn:aws:iam::000000000000:role/lambkin-bench"
REPORT_RE = re.compile(
    r"REPORT RequestId: \S+\s+Duration: ([\d.]+) ms.*?(?:Init Duration: ([\d.]+) ms)?\s*$",
    re.MULTILINE,
)


class Lambkin:
    def __init__(self, driver: str, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.driver = driver
        self.server: Server = start_server(driver, data_dir, env=env)
        self.lam = self.server.client()
        host, port = self.server.endpoint.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)

    @property
    def pid(self) -> int:
        return self.server.process.pid

    def deploy(
        self,
        name: str,
        files: Mapping[str, str | bytes],
        runtime: str = "python3.11",
        handler: str = "app.handler",
        memory_mb: int = 128,
        timeout_s: int = 30,
        executable: tuple[str, ...] = (),
    ) -> None:
        self.lam.create_function(
            FunctionName=name, Runtime=runtime, Handler=handler, Role=ROLE,
            MemorySize=memory_mb, Timeout=timeout_s,
            Code={"ZipFile": make_zip(files, executable)},
        )  # fmt: skip

    def target(self, name: str) -> Target:
        return Target(
            f"lambkin_{self.driver}",
            self.host,
            self.port,
            f"/2015-03-31/functions/{name}/invocations",
        )

    def url_target(self, name: str) -> Target:
        """The function's URL (AuthType NONE, granted as AWS requires), by its path form."""
        url = self.lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        self.lam.add_permission(
            FunctionName=name, StatementId="bench-url", Action="lambda:InvokeFunctionUrl",
            Principal="*", FunctionUrlAuthType="NONE",
        )  # fmt: skip
        url_id = url["FunctionUrl"].split("//", 1)[1].split(".", 1)[0]
        return Target(
            f"lambkin_{self.driver}_url", self.host, self.port, f"/lambkin/urls/{url_id}/"
        )

    def deploy_image(self, name: str, image: str, memory_mb: int = 128) -> None:
        self.lam.create_function(
            FunctionName=name, PackageType="Image", Code={"ImageUri": image}, Role=ROLE,
            MemorySize=memory_mb, Timeout=30,
        )  # fmt: skip

    def invoke_with_report(self, name: str, payload: bytes) -> dict[str, Any]:
        """One boto3 invocation with LogType=Tail: client time plus the REPORT line's figures."""
        start_wall = time.time()
        start = time.perf_counter()
        response = self.lam.invoke(FunctionName=name, Payload=payload, LogType="Tail")
        body = response["Payload"].read()
        total_ms = (time.perf_counter() - start) * 1000
        if response.get("FunctionError"):
            raise RuntimeError(f"{name} failed: {body[:300]!r}")
        tail = base64.b64decode(response.get("LogResult", "")).decode(errors="replace")
        match = REPORT_RE.search(tail)
        headers = response["ResponseMetadata"]["HTTPHeaders"]
        return {
            "total_ms": total_ms,
            "start_wall": start_wall,
            "end_wall": time.time(),
            "duration_ms": float(match.group(1)) if match else None,
            "init_duration_ms": float(match.group(2)) if match and match.group(2) else None,
            "server_timing": parse_server_timing(headers.get("server-timing", "")),
        }

    def instances(self, function: str | None = None) -> list[dict[str, Any]]:
        return self.server.instances(function)

    def live_instances(self, function: str | None = None) -> int:
        return sum(
            1
            for i in self.instances(function)
            if i["State"] not in ("stopping", "stopped", "failed")
        )

    def delete(self, name: str, wait_s: float = 30.0) -> None:
        """Delete the function and wait until its instances are gone (so they disturb nothing).

        For docker, wait on the engine (`docker ps`) and only then on the server: the instance
        listing asks each agent for its health, and asking a container that is being removed
        leaves an unanswered ARP entry for its IP, which the next container to get that IP then
        waits out (~1 s) on its first connection: a cold start the bench would have caused."""
        instances = [i["InstanceId"] for i in self.instances(name)]
        self.lam.delete_function(FunctionName=name)
        deadline = time.monotonic() + wait_s
        if self.driver == "docker":
            # By instance: one that began as a vacancy carries no function label.
            while (
                any(sysinfo.containers_with_label(f"org.lambkin.instance={i}") for i in instances)
                and time.monotonic() < deadline
            ):
                time.sleep(0.03)
            time.sleep(0.05)  # the pool forgets the instance right after the engine removed it
        while self.instances(name) and time.monotonic() < deadline:
            time.sleep(0.03)

    def containers(self, function: str | None = None) -> list[sysinfo.Container]:
        label = (
            f"org.lambkin.function={function}"
            if function
            else f"org.lambkin.server={self.server_id}"
        )
        return sysinfo.containers_with_label(label)

    def agents(self) -> list[int]:
        """Process driver: the agents (the server's children but its log writer's processes)."""
        helpers = set(sysinfo.helpers_of(self.pid))
        return [p for p in sysinfo.children_map().get(self.pid, []) if p not in helpers]

    def agent_pids(self) -> list[int]:
        """Process driver: every agent and runtime process (the agents' trees)."""
        tree = sysinfo.children_map()
        return [p for agent in self.agents() for p in (agent, *sysinfo.descendants(agent, tree))]

    @property
    def server_id(self) -> str:
        with urllib.request.urlopen(f"{self.server.endpoint}/healthz", timeout=5) as response:
            return str(json.loads(response.read())["server_id"])

    def stop(self) -> None:
        self.server.stop()


def parse_server_timing(value: str) -> dict[str, float]:
    """`Server-Timing: start;dur=180.2, init;dur=38.5` -> {"start": 180.2, "init": 38.5} (ms)."""
    out: dict[str, float] = {}
    for metric in filter(None, (m.strip() for m in value.split(","))):
        name, *params = (p.strip() for p in metric.split(";"))
        for param in params:
            key, _, number = param.partition("=")
            if key == "dur":
                try:
                    out[name] = float(number)
                except ValueError:
                    pass
    return out
