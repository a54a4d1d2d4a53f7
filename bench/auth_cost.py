"""What the access layer costs on the hot path (Invoke), two ways.

1. In process: the ASGI middleware (`api/access.py`) around an app that answers at once, called
   with one Invoke request: with no credentials file (as every server without one runs), and
   with one and a signed request (SigV4 verified by botocore's signer). Microseconds per request
   over the bare app, median of several rounds: the layer's own CPU, nothing else.
2. End to end: two real servers (process driver), one without and one with a credentials file,
   each invoked sequentially over one keep-alive connection (the signed requests are signed
   before the clock starts, so the client's signing is not counted); the control plane's CPU per
   invocation (from /proc) and the client-seen latency.

    python -m bench.auth_cost                     # both, about a minute
    python -m bench.auth_cost --invocations 500   # shorter
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.types import Message, Receive, Scope, Send

from orchestrator.api.access import AccessControl, Gate
from orchestrator.audit import AuditTrail
from orchestrator.credentials import parse
from tests.support.server import Server, start_server
from tests.support.signing import ALICE, write_credentials
from tests.support.zips import make_zip

from . import sysinfo

PAYLOAD = b'{"order": 1}'
INVOKE_PATH = "/2015-03-31/functions/orders-bench/invocations"
CREDENTIALS = f"""
[users.alice]
access_key_id = "{ALICE.access_key}"
secret_access_key = "{ALICE.secret_key}"
permissions = ["admin"]
"""


def signed_headers(method: str, url: str, body: bytes) -> dict[str, str]:
    request = AWSRequest(method=method, url=url, data=body, headers={})
    SigV4Auth(Credentials(ALICE.access_key, ALICE.secret_key), "lambda", "us-east-1").add_auth(
        request
    )
    headers = dict(request.headers.items())
    headers["Host"] = urlsplit(url).netloc
    return headers


# -- 1. in process -----------------------------------------------------------------------------


async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


def _scope(headers: dict[str, str]) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": INVOKE_PATH,
        "raw_path": INVOKE_PATH.encode(),
        "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 40000),
    }


async def _per_request_us(app: Callable[..., Any], scope: Scope, n: int) -> float:
    async def receive() -> Message:
        return {"type": "http.request", "body": PAYLOAD, "more_body": False}

    async def send(message: Message) -> None:
        pass

    started = time.perf_counter()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return (time.perf_counter() - started) / n * 1e6


def in_process(rounds: int = 7, n: int = 5000) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="lambkin-auth-cost-"))
    audit = AuditTrail(data / "audit.jsonl")
    open_layer = AccessControl(_answer, None, audit, None, "us-east-1", "000000000000")
    gate = Gate(parse(CREDENTIALS), "us-east-1", "000000000000")
    guarded = AccessControl(_answer, gate, audit, None, "us-east-1", "000000000000")
    signed = _scope(signed_headers("POST", f"http://127.0.0.1:9000{INVOKE_PATH}", PAYLOAD))
    unsigned = _scope({"Host": "127.0.0.1:9000"})
    cases: dict[str, tuple[Callable[..., Any], Scope]] = {
        "bare_app_us": (_answer, unsigned),
        "no_credentials_us": (open_layer, unsigned),
        "signed_invoke_us": (guarded, signed),
    }
    medians: dict[str, float] = {}
    for name, (app, scope) in cases.items():
        samples = [asyncio.run(_per_request_us(app, scope, n)) for _ in range(rounds)]
        medians[name] = statistics.median(samples)
    audit.close()
    bare = medians["bare_app_us"]
    return {
        **{k: round(v, 2) for k, v in medians.items()},
        "no_credentials_overhead_us": round(medians["no_credentials_us"] - bare, 2),
        "signed_invoke_overhead_us": round(medians["signed_invoke_us"] - bare, 2),
    }


# -- 2. end to end ------------------------------------------------------------------------------


def _deploy(server: Server, access_key: str, secret_key: str) -> None:
    lam = server.client("lambda", access_key, secret_key)
    lam.create_function(
        FunctionName="orders-bench", Runtime="python3.11", Handler="app.handler",
        Role="arn:aws:iam::000000000000:role/bench", MemorySize=128, Timeout=30,
        Code={"ZipFile": make_zip({"app.py": "def handler(event, context):\n    return event\n"})},
    )  # fmt: skip
    lam.get_waiter("function_active_v2").wait(FunctionName="orders-bench")


def _invoke_loop(server: Server, requests: list[dict[str, str]]) -> tuple[float, list[float]]:
    """Control-plane CPU seconds and each latency (ms) for these invocations, in order."""
    parts = urlsplit(server.endpoint)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port)
    for headers in requests[:50]:  # warm: the instance, the connection, the caches
        connection.request("POST", INVOKE_PATH, PAYLOAD, headers)
        assert connection.getresponse().read() == PAYLOAD
    cpu_before = sysinfo.cpu_seconds(server.process.pid)
    latencies = []
    for headers in requests[50:]:
        started = time.perf_counter()
        connection.request("POST", INVOKE_PATH, PAYLOAD, headers)
        response = connection.getresponse()
        body = response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status == 200 and body == PAYLOAD, (response.status, body)
    cpu = sysinfo.cpu_seconds(server.process.pid) - cpu_before
    connection.close()
    return cpu, latencies


def end_to_end(invocations: int) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="lambkin-auth-cost-"))
    credentials = write_credentials(root / "credentials.toml")
    env = {"LAMBKIN_STORE_LOGS": "false", "LAMBKIN_VACANCY_MEMORY_MB": "0"}
    open_server = start_server("process", root / "open", env=env)
    guarded = start_server(
        "process", root / "guarded", env=env, args=("--credentials-file", str(credentials))
    )
    try:
        _deploy(open_server, "test", "test")
        _deploy(guarded, ALICE.access_key, ALICE.secret_key)
        total = invocations + 50
        plain = [{"Content-Type": "application/json"}] * total
        url = f"{guarded.endpoint}{INVOKE_PATH}"
        signed_at = datetime.now(UTC)
        signed = [signed_headers("POST", url, PAYLOAD) for _ in range(total)]
        results: dict[str, Any] = {}
        # Alternate the two, twice, so neither has the machine to itself more than the other.
        runs: dict[str, list[tuple[float, list[float]]]] = {"no_credentials": [], "signed": []}
        for _ in range(2):
            runs["no_credentials"].append(_invoke_loop(open_server, plain))
            runs["signed"].append(_invoke_loop(guarded, signed))
        assert (datetime.now(UTC) - signed_at).total_seconds() < 290, "signatures went stale"
        for name, measured in runs.items():
            cpu = sum(c for c, _ in measured)
            latencies = [ms for _, run in measured for ms in run]
            results[name] = {
                "control_plane_cpu_ms_per_invocation": round(cpu / len(latencies) * 1000, 3),
                "latency_p50_ms": round(statistics.median(latencies), 3),
                "latency_p99_ms": round(statistics.quantiles(latencies, n=100)[98], 3),
            }
        results["signed_extra_cpu_ms_per_invocation"] = round(
            results["signed"]["control_plane_cpu_ms_per_invocation"]
            - results["no_credentials"]["control_plane_cpu_ms_per_invocation"],
            3,
        )
        results["invocations_each"] = 2 * invocations
        return results
    finally:
        open_server.stop()
        guarded.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invocations", type=int, default=1000, help="per run, per server")
    parser.add_argument("--skip-servers", action="store_true", help="the in-process part only")
    args = parser.parse_args()
    print("in process (the middleware alone, us per request):")
    for key, value in in_process().items():
        print(f"  {key:32} {value}")
    if not args.skip_servers:
        print("end to end (process driver, sequential, one keep-alive connection):")
        for key, value in end_to_end(args.invocations).items():
            print(f"  {key:40} {value}")


if __name__ == "__main__":
    main()
