"""Our Node.js client's response streaming against AWS's aws-lambda-ric (unmodified, in an image
on Lambkin's agent): the same streamifyResponse handler under both, and the bytes and the
InvokeComplete each caller receives through InvokeWithResponseStream must be the same."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from orchestrator.images import ImageStatus, image_status
from orchestrator.settings import Settings
from tests.support import function_images as fi
from tests.support.docker_build import build_image
from tests.support.server import Client, Server, start_server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

HANDLER = Path(__file__).parents[1] / "integration" / "functions" / "streaming" / "index.mjs"
ROLE = "arn:aws:iam::123456789012:role/lambda-role"


def _ric_streaming_image() -> str:
    """aws-lambda-ric's image with the streaming handler added (a layer on top, no rebuild)."""
    base = fi.aws_lambda_ric_image().tag
    files: dict[str, str | bytes] = {
        "Dockerfile": f"FROM {base}\nCOPY stream.mjs /var/task/stream.mjs\n",
        "stream.mjs": HANDLER.read_bytes(),
    }
    return build_image(docker.from_env(), "lambkin-test/aws-lambda-ric-streaming", files)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    prefix = Settings().image_prefix
    if image_status("nodejs18.x", prefix=prefix) is not ImageStatus.CURRENT:
        pytest.fail(
            f"{prefix}/nodejs18.x is not built from these sources: run "
            f"LAMBKIN_IMAGE_PREFIX={prefix} python3 -m orchestrator.images build nodejs18.x"
        )
    srv = start_server("docker", tmp_path_factory.mktemp("streaming-clients"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def functions(server: Server) -> dict[str, str]:
    lam = server.client()
    names = {"lambkin": f"ours-{uuid.uuid4().hex[:8]}", "aws": f"ric-{uuid.uuid4().hex[:8]}"}
    lam.create_function(
        FunctionName=names["lambkin"],
        Runtime="nodejs18.x",
        Role=ROLE,
        Handler="stream.handler",
        Code={"ZipFile": make_zip({"stream.mjs": HANDLER.read_text()})},
        Timeout=10,
    )
    lam.create_function(
        FunctionName=names["aws"],
        PackageType="Image",
        Code={"ImageUri": _ric_streaming_image()},
        ImageConfig={"Command": ["stream.handler"]},
        Role=ROLE,
        Timeout=10,
    )
    for name in names.values():
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return names


def _received(lam: Client, name: str, event: dict[str, Any]) -> tuple[bytes, dict[str, Any]]:
    response = lam.invoke_with_response_stream(
        FunctionName=name, Payload=json.dumps(event).encode()
    )
    events = list(response["EventStream"])
    body = b"".join(e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e)
    return body, events[-1]["InvokeComplete"]


@pytest.mark.parametrize(
    "event",
    [
        {"sleepMs": 10},
        {"mode": "http"},
        {"mode": "pipeline"},
        {"mode": "fail", "sleepMs": 10},
    ],
    ids=["write-end", "http-response-stream", "pipeline", "mid-stream-error"],
)
def test_the_same_bytes_and_outcome_as_aws_lambda_ric(
    server: Server, functions: dict[str, str], event: dict[str, Any]
) -> None:
    lam = server.client()
    ours = _received(lam, functions["lambkin"], event)
    theirs = _received(lam, functions["aws"], event)
    assert ours == theirs
