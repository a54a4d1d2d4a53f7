"""A hostile Python function (probe.py), deployed on the security tests' server.

Each test deploys the probe, runs one probe inside an instance, and checks from the host side
that the instance's walls held.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from tests.support.server import Server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
PROBE_ZIP = make_zip({"probe.py": (Path(__file__).parent / "probe.py").read_text()})


def deploy(
    server: Server, code: bytes = PROBE_ZIP, handler: str = "probe.handler", **config: Any
) -> str:
    """A new function running probe.handler (or the given code); its name."""
    name = f"probe-{uuid.uuid4().hex[:8]}"
    lam = server.client()
    lam.create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": code},
        **{"Timeout": 30, **config},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def run(server: Server, name: str, event: dict[str, Any]) -> Any:
    """Invoke and return the probe's answer; a function error fails the test with its body."""
    response = server.client().invoke(FunctionName=name, Payload=json.dumps(event))
    body = json.loads(response["Payload"].read())
    assert "FunctionError" not in response, body
    return body


def instance_of(server: Server, name: str) -> dict[str, Any]:
    """The function's one instance, as the admin API lists it."""
    (instance,) = server.instances(name)
    return instance
