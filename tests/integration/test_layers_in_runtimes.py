"""What a function's layers give it at run time (issue 15, part 4), in every runtime on the
docker driver: each language finds a library where Lambda's runtimes look in /opt (`python`,
`nodejs/node_modules`, `ruby/lib`, `java/lib`, `bin`, `lib`, a custom runtime's `bootstrap`),
later layers win where their files overlap, /opt is read-only, and a cold start from a vacant
instance gets the same /opt. The process driver points the same search paths at the merged
directory on the host."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.server import Server, start_server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

PY_APP = """
import os, greeting, shared
def handler(event, context):
    try:
        open("/opt/python/written", "w")
        writable = True
    except OSError:
        writable = False
    return {"greeting": greeting.hello(event["name"]), "shared": shared.WHO,
            "opt_writable": writable, "opt": sorted(os.listdir("/opt"))}
"""
NODE_APP = """
const greeting = require('greeting');
const shared = require('shared');
exports.handler = async (event) => ({ greeting: greeting.hello(event.name), shared: shared.WHO });
"""
RUBY_APP = """
require 'greeting'
require 'shared'
def handler(event:, context:)
  { 'greeting' => Greeting.hello(event['name']), 'shared' => Shared::WHO }
end
"""
BOOTSTRAP = """#!/bin/sh
set -eu
api="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  id=$(curl -sS -D /tmp/h -o /tmp/e "$api/invocation/next" >/dev/null; \
       sed -n 's/^Lambda-Runtime-Aws-Request-Id: *\\([^[:space:]]*\\).*/\\1/Ip' /tmp/h)
  shared=$(cat /opt/shared.txt)
  printf '{"greeting":"%s","shared":"%s","bootstrap":"%s"}' "$(greet Ada)" "$shared" "$0" >/tmp/out
  curl -sS -o /dev/null -X POST "$api/invocation/$id/response" --data-binary @/tmp/out
done
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        "docker",
        tmp_path_factory.mktemp("layers-run"),
        env={"LAMBKIN_MAINTENANCE_INTERVAL_S": "0.1"},  # vacancies refilled at once
    )
    yield srv
    assert srv.stop() == 0, srv.log()


def publish(lam: Any, files: dict[str, str | bytes], executable: tuple[str, ...] = ()) -> str:
    zipped = make_zip(files, executable)
    name = f"lib-{uuid.uuid4().hex[:8]}"
    arn: str = lam.publish_layer_version(LayerName=name, Content={"ZipFile": zipped})[
        "LayerVersionArn"
    ]
    return arn


def deploy_and_invoke(
    lam: Any, runtime: str, handler: str, code: bytes, layers: list[str]
) -> dict[str, Any]:
    name = f"layered-{runtime.replace('.', '')}-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
        Code={"ZipFile": code}, Layers=layers, Timeout=30, MemorySize=512,
    )  # fmt: skip
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"name": "Ada"}))
    payload = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, payload
    result: dict[str, Any] = payload
    return result


def two_layers(
    lam: Any, first: dict[str, str | bytes], second: dict[str, str | bytes]
) -> list[str]:
    """A library layer, then one overriding the `shared` file both carry."""
    return [publish(lam, first), publish(lam, second)]


def test_python_finds_layer_packages_and_opt_is_read_only(server: Server) -> None:
    lam = server.client()
    layers = two_layers(
        lam,
        {
            "python/lib/python3.11/site-packages/greeting.py": (
                "def hello(name):\n    return f'Hello, {name}!'\n"
            ),
            "python/shared.py": "WHO = 'first'\n",
        },
        {"python/shared.py": "WHO = 'second'\n"},
    )
    code = make_zip({"app.py": PY_APP})
    result = deploy_and_invoke(lam, "python3.11", "app.handler", code, layers)
    assert result["greeting"] == "Hello, Ada!"
    assert result["shared"] == "second"  # the later layer wins
    assert result["opt_writable"] is False
    assert result["opt"] == ["python"]  # the layers alone: nothing of Lambkin's in /opt


def test_nodejs_finds_layer_modules(server: Server) -> None:
    lam = server.client()
    layers = two_layers(
        lam,
        {
            "nodejs/node_modules/greeting/index.js": (
                "exports.hello = (name) => `Hello, ${name}!`;\n"
            ),
            "nodejs/node_modules/shared/index.js": "exports.WHO = 'first';\n",
        },
        {"nodejs/node18/node_modules/shared/index.js": "exports.WHO = 'second';\n"},
    )
    code = make_zip({"index.js": NODE_APP})
    result = deploy_and_invoke(lam, "nodejs18.x", "index.handler", code, layers)
    # nodejs/node18/node_modules comes before nodejs/node_modules, as on Lambda.
    assert result == {"greeting": "Hello, Ada!", "shared": "second"}


def test_ruby_finds_layer_libraries(server: Server) -> None:
    lam = server.client()
    layers = two_layers(
        lam,
        {
            "ruby/lib/greeting.rb": 'module Greeting\n  def self.hello(n) = "Hello, #{n}!"\nend\n',
            "ruby/lib/shared.rb": "module Shared\n  WHO = 'first'\nend\n",
        },
        {"ruby/lib/shared.rb": "module Shared\n  WHO = 'second'\nend\n"},
    )
    code = make_zip({"function.rb": RUBY_APP})
    result = deploy_and_invoke(lam, "ruby3.1", "function.handler", code, layers)
    assert result == {"greeting": "Hello, Ada!", "shared": "second"}


def _javac(sources: dict[str, str], out: Path, classpath: str | None = None) -> None:
    src = out.parent / f"{out.name}-src"
    for rel, text in sources.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(text)
    command = ["javac", "--release", "17", "-nowarn", "-d", str(out)]
    if classpath:
        command += ["-cp", classpath]
    subprocess.run([*command, *map(str, src.rglob("*.java"))], check=True, timeout=120)


def _jar(classes: Path) -> bytes:
    jar = classes.parent / f"{classes.name}.jar"
    with zipfile.ZipFile(jar, "w") as archive:
        for path in sorted(classes.rglob("*.class")):
            archive.write(path, path.relative_to(classes).as_posix())
    return jar.read_bytes()


def test_java_finds_layer_jars(server: Server, tmp_path: Path) -> None:
    assert shutil.which("javac"), "javac is needed (make host-runtimes installs a JDK)"
    lam = server.client()
    library = tmp_path / "library"
    _javac(
        {
            "layerlib/Greeting.java": (
                "package layerlib;\npublic class Greeting {\n"
                '  public static String hello(String n) { return "Hello, " + n + "!"; }\n}\n'
            )
        },
        library,
    )
    handler = tmp_path / "handler"
    _javac(
        {
            "example/UsesLayer.java": (
                "package example;\nimport java.util.Map;\n"
                "public class UsesLayer {\n"
                "  public Map<String, String> handle(Map<String, String> event) {\n"
                '    return Map.of("greeting", layerlib.Greeting.hello(event.get("name")));\n'
                "  }\n}\n"
            )
        },
        handler,
        classpath=str(library),
    )
    layers = [publish(lam, {"java/lib/greeting.jar": _jar(library)})]
    code = make_zip(
        {p.relative_to(handler).as_posix(): p.read_bytes() for p in handler.rglob("*.class")}
    )
    result = deploy_and_invoke(lam, "java17", "example.UsesLayer::handle", code, layers)
    assert result == {"greeting": "Hello, Ada!"}


def test_a_custom_runtime_comes_from_a_layer(server: Server) -> None:
    """provided.al2023 with no bootstrap in the code: /opt/bootstrap runs, with /opt/bin on
    PATH, as Lambda runs a runtime shipped as a layer."""
    lam = server.client()
    layers = [
        publish(
            lam,
            {
                "bootstrap": BOOTSTRAP,
                "bin/greet": '#!/bin/sh\necho "Hello, $1!"\n',
                "shared.txt": "first",
            },
            executable=("bootstrap", "bin/greet"),
        ),
        publish(lam, {"shared.txt": "second"}),
    ]
    code = make_zip({"README": "the runtime is a layer\n"})
    result = deploy_and_invoke(lam, "provided.al2023", "unused", code, layers)
    assert result == {"greeting": "Hello, Ada!", "shared": "second", "bootstrap": "/opt/bootstrap"}


def ready_python_vacancy(server: Server, timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        with urllib.request.urlopen(f"{server.endpoint}/lambkin/vacancies", timeout=5) as answer:
            shapes = json.loads(answer.read())["Shapes"]
        ready: list[str] = [
            vacancy["InstanceId"]
            for shape in shapes
            if shape["Runtime"] == "python3.11" and shape["MemorySize"] == 128
            for vacancy in shape["Ready"]
        ]
        if ready:
            return ready[-1]  # the newest: the one the next cold start takes
        assert time.monotonic() < deadline, f"no vacancy became ready: {shapes}"
        time.sleep(0.05)


def test_a_cold_start_from_a_vacancy_gets_the_layers(server: Server) -> None:
    """A vacancy starts with an empty /opt of its own; specialising links the layers in."""
    lam = server.client()
    plain = f"plain-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=plain, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": "def handler(e, c):\n    return 1\n"})},
    )  # fmt: skip
    lam.invoke(FunctionName=plain)  # demand for the shape: a vacancy is kept ready
    vacancy = ready_python_vacancy(server)
    layers = [publish(lam, {"python/greeting.py": "def hello(n):\n    return f'Hey {n}'\n"})]
    name = f"layered-vacancy-{uuid.uuid4().hex[:6]}"
    app = "import greeting\ndef handler(e, c):\n    return greeting.hello(e['name'])\n"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": app})}, Layers=layers,
    )  # fmt: skip
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"name": "Ada"}))
    assert json.loads(answer["Payload"].read()) == "Hey Ada"
    assert [i["InstanceId"] for i in server.instances(name)] == [vacancy]


def test_process_driver_points_the_search_paths_at_the_merged_layers(tmp_path: Path) -> None:
    srv = start_server("process", tmp_path / "process")
    try:
        lam = srv.client()
        layers = [publish(lam, {"python/greeting.py": "def hello(n):\n    return f'Hi {n}'\n"})]
        app = "import greeting\ndef handler(e, c):\n    return greeting.hello(e['name'])\n"
        code = make_zip({"app.py": app})
        name = f"layered-process-{uuid.uuid4().hex[:6]}"
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": code}, Layers=layers,
        )  # fmt: skip
        answer = lam.invoke(FunctionName=name, Payload=json.dumps({"name": "Ada"}))
        assert json.loads(answer["Payload"].read()) == "Hi Ada"
    finally:
        assert srv.stop() == 0, srv.log()
