"""`lambkin dev --template` against a real server on each driver: the template's functions are
deployed with their folders as code; an edit of an interpreted function is live a second after
the save; a compiled one (Go and Java, each its resource's Metadata BuildCommand) is rebuilt on
save and its next invocation runs what was built."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Server, start_server

DEV_APP = Path(__file__).parent / "functions" / "dev_app"
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]


@pytest.fixture(params=DRIVERS)
def app_and_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Path, Server]]:
    app = tmp_path / "app"
    shutil.copytree(DEV_APP, app)
    srv = start_server(request.param, tmp_path / "data", args=("--hot-reload-root", str(app)))
    yield app, srv
    assert srv.stop() == 0, srv.log()


def says(server: Server, name: str) -> str:
    answer = server.client().invoke(FunctionName=name, Payload=b"{}")
    body = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, body
    return str(body["says"])


def wait_for(check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_lambkin_dev_serves_folders_and_rebuilds_on_save(
    app_and_server: tuple[Path, Server],
) -> None:
    app, server = app_and_server
    env = {**os.environ, "LAMBKIN_ENDPOINT": server.endpoint, "COLUMNS": "200"}
    log = (app.parent / "dev.log").open("w")
    dev = subprocess.Popen(
        [sys.executable, "-m", "orchestrator", "dev", "--template", "template.yaml",
         "--stack-name", "devapp"],
        cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    output = app.parent / "dev.log"
    try:
        wait_for(
            lambda: "watching 2 folder(s)" in output.read_text() or dev.poll() is not None, 180
        )
        assert dev.poll() is None, output.read_text()
        assert says(server, "devapp-Interpreted") == "python v1"
        assert says(server, "devapp-Compiled") == "go v1"
        assert says(server, "devapp-CompiledJava") == "java v1"
        config = server.client().get_function_configuration(FunctionName="devapp-Interpreted")
        assert config["CodeSize"] == 0  # its folder, not a zip

        (app / "py" / "app.py").write_text(
            "def handler(event, context):\n    return {'says': 'python v2'}\n"
        )
        time.sleep(1.0)
        assert says(server, "devapp-Interpreted") == "python v2"

        source = app / "go" / "main.go"
        source.write_text(source.read_text().replace("go v1", "go v2"))
        wait_for(lambda: "built go" in output.read_text().split("watching", 1)[1], 120)
        time.sleep(1.0)
        assert says(server, "devapp-Compiled") == "go v2", output.read_text()
        builds = output.read_text().count("built go")
        time.sleep(1.5)  # the binary the build wrote is not an edit: no second build
        assert output.read_text().count("built go") == builds

        source = app / "java" / "example" / "Handler.java"
        source.write_text(source.read_text().replace("java v1", "java v2"))
        wait_for(lambda: "built java" in output.read_text().split("watching", 1)[1], 120)
        time.sleep(1.0)
        assert says(server, "devapp-CompiledJava") == "java v2", output.read_text()
        builds = output.read_text().count("built java")
        time.sleep(1.5)  # nor are the classes javac wrote
        assert output.read_text().count("built java") == builds
    finally:
        dev.send_signal(signal.SIGINT)
        assert dev.wait(timeout=30) == 0, output.read_text()
        log.close()
