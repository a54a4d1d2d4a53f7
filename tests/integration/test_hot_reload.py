"""Hot reload on a real server, each driver: a function whose code is a folder (S3Bucket
hot-reload, S3Key the folder, LocalStack's convention) runs an edit on the next invocation, a
second after the save at most, in every interpreted runtime; an invocation running during the
edit finishes with the code it started with; UpdateFunctionCode moves a function between a zip
and a folder."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Server, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]

# runtime -> (handler, file name, source answering `text`)
RUNTIMES = {
    "python3.11": (
        "app.handler",
        "app.py",
        "import time\n\ndef handler(event, context):\n"
        "    time.sleep(event.get('sleep', 0))\n    return {{'says': '{text}'}}\n",
    ),
    "nodejs18.x": (
        "app.handler",
        "app.mjs",
        "export const handler = async (event) => {{\n"
        "  await new Promise((r) => setTimeout(r, (event.sleep || 0) * 1000));\n"
        "  return {{ says: '{text}' }};\n}};\n",
    ),
    "ruby3.1": (
        "app.handler",
        "app.rb",
        "def handler(event:, context:)\n  sleep(event['sleep'] || 0)\n"
        "  {{ 'says' => '{text}' }}\nend\n",
    ),
    "provided.al2023": (
        "unused",
        "bootstrap",
        '#!/bin/sh\nset -eu\napi="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime"\n'
        "while true; do\n"
        '  curl -sS -D /tmp/h -o /tmp/e "$api/invocation/next"\n'
        "  id=$(grep -i lambda-runtime-aws-request-id /tmp/h | tr -d '\\r' | cut -d' ' -f2)\n"
        "  grep -q '\"sleep\"' /tmp/e && sleep 2\n"
        '  curl -sS -X POST -d \'{{"says": "{text}"}}\' "$api/invocation/$id/response" >/dev/null\n'
        "done\n",
    ),
}


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    root = tmp_path_factory.mktemp(f"hot-{request.param}")
    (root / "code").mkdir()
    srv = start_server(request.param, root / "data", args=("--hot-reload-root", str(root / "code")))
    srv.hot_root = root / "code"  # type: ignore[attr-defined]
    yield srv
    assert srv.stop() == 0, srv.log()


def write_code(folder: Path, runtime: str, text: str) -> None:
    _, filename, source = RUNTIMES[runtime]
    path = folder / filename
    path.write_text(source.format(text=text))
    path.chmod(0o755)


def says(server: Server, name: str, event: dict[str, object] | None = None) -> str:
    answer = server.client().invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return str(body["says"])


def hot_function(server: Server, runtime: str) -> tuple[str, Path]:
    folder: Path = server.hot_root / f"{runtime}-{uuid.uuid4().hex[:6]}"  # type: ignore[attr-defined]
    folder.mkdir()
    write_code(folder, runtime, "first")
    name = f"hot-{runtime.replace('.', '')}-{uuid.uuid4().hex[:6]}"
    lam = server.client()
    created = lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=RUNTIMES[runtime][0],
        Code={"S3Bucket": "hot-reload", "S3Key": str(folder)},
        Timeout=10,
    )
    assert created["CodeSize"] == 0
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name, folder


@pytest.mark.parametrize("runtime", sorted(RUNTIMES))
def test_an_edit_is_live_a_second_after_the_save(server: Server, runtime: str) -> None:
    name, folder = hot_function(server, runtime)
    assert says(server, name) == "first"
    assert says(server, name) == "first"  # warm: the same instance
    write_code(folder, runtime, "second")
    time.sleep(1.0)
    assert says(server, name) == "second"
    (folder / "notes.txt").write_text("a file the code does not use")  # any change retires
    time.sleep(1.0)
    assert says(server, name) == "second"


def test_a_running_invocation_finishes_with_its_code(server: Server) -> None:
    name, folder = hot_function(server, "python3.11")
    assert says(server, name) == "first"
    running: list[str] = []
    slow = threading.Thread(target=lambda: running.append(says(server, name, {"sleep": 2})))
    slow.start()
    time.sleep(0.5)
    write_code(folder, "python3.11", "second")
    slow.join(timeout=30)
    assert running == ["first"]  # busy when the file changed: it finished first
    time.sleep(0.5)
    assert says(server, name) == "second"


def test_update_function_code_moves_between_a_zip_and_a_folder(server: Server) -> None:
    name, folder = hot_function(server, "python3.11")
    lam = server.client()
    zipped = make_zip({"app.py": "def handler(event, context):\n    return {'says': 'zip'}\n"})
    lam.update_function_code(FunctionName=name, ZipFile=zipped)
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert says(server, name) == "zip"
    write_code(folder, "python3.11", "not watched any more")
    time.sleep(1.0)
    assert says(server, name) == "zip"
    lam.update_function_code(FunctionName=name, S3Bucket="hot-reload", S3Key=str(folder))
    lam.get_waiter("function_updated_v2").wait(FunctionName=name)
    assert says(server, name) == "not watched any more"
