"""What the swarm runs besides the runtimes published at start-up, on the real cluster: every
runtime whose image this host has (published on its first instance), image functions (their
image published with the agent), and a function out of memory told as on docker.

One server for all (conftest.py) and few invocations: each first publish costs seconds.
"""

from __future__ import annotations

import json
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
import pytest

from tests.support import function_images as fi
from tests.support.server import Client, Server
from tests.support.swarm_cluster import (
    ROLE,
    Cluster,
    create,
    instance_ids,
    invoke,
    wait_pulled,
)
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

HOG = make_zip(
    {
        "app.py": """
import os

invocations = 0  # this runtime process's

def hog(event, context):
    global invocations
    invocations += 1
    blocks = [bytearray(1024 * 1024) for _ in range(event.get("mb", 0))]
    while event.get("forever"):
        blocks.append(bytearray(16 * 1024 * 1024))
    return {"stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"], "invocations": invocations}
"""
    }
)


def test_a_function_out_of_memory_is_told_so_and_the_next_invocation_runs_afresh(
    server: Server, lam: Client
) -> None:
    """As on docker: the agent reads its task's cgroup (memory.oom_control on these cgroup v1
    nodes, memory.events on v2), reports the runtime's OOM kill, and starts the runtime again
    (a fresh init, as Lambda resets its environment) for the next invocation."""
    name = create(lam, HOG, "hog", memory=128)
    first = invoke(lam, name, {"mb": 8})
    assert first["invocations"] == 1, first
    response = lam.invoke(FunctionName=name, Payload=json.dumps({"forever": True}))
    body = json.loads(response["Payload"].read())
    assert response.get("FunctionError") == "Unhandled", body
    assert body["errorType"] == "Runtime.OutOfMemory", body
    after = invoke(lam, name, {"mb": 8})
    assert after["invocations"] == 1, after  # a new runtime process: its init ran again


def _create(lam: Client, **fields: Any) -> str:
    name = f"sw-{uuid.uuid4().hex[:10]}"
    lam.create_function(FunctionName=name, Role=ROLE, MemorySize=256, Timeout=30, **fields)
    lam.get_waiter("function_active_v2").wait(FunctionName=name)
    return name


def _publishes(server: Server, repository: str) -> list[str]:
    """The server's log lines that say `repository` is published: one per image it runs (each
    once, however many starts asked), pushed or found in the registry (an earlier run's)."""
    return re.findall(rf"published \S+ as \S+/{re.escape(repository)}:\S+.*", server.log())


def _seconds(lines: list[str]) -> str:
    """How long a push took, from its line ("in 12.3 s"), or what the line says instead."""
    found = re.search(r"in ([0-9.]+ s)$|\((the registry had it)\)", lines[0]) if lines else None
    return next(g for g in found.groups() if g) if found else "?"


def test_go_and_java_run_on_the_swarm_their_runtimes_published_on_first_start(
    server: Server, lam: Client
) -> None:
    """Neither runtime is published at start-up (only the gateways' python3.11 is): each is
    offered because this host has its image, and published once by its first instances, even
    two at once, outside their start budget."""
    assert _publishes(server, "lambkin/provided.al2023") == []
    go = _create(
        lam, Runtime="provided.al2023", Handler="bootstrap", Code={"ZipFile": fi.go_bootstrap_zip()}
    )
    with ThreadPoolExecutor(2) as pool:  # two first starts at once
        answers = list(pool.map(lambda n: invoke(lam, go, {"n": n}), range(2)))
    assert [a["event"] for a in answers] == [{"n": 0}, {"n": 1}], answers
    assert answers[0]["uid"] == 993 and answers[0]["env"]["LAMBDA_TASK_ROOT"] == "/var/task"
    assert len(_publishes(server, "lambkin/provided.al2023")) == 1, server.log()
    java = _create(
        lam, Runtime="java17", Handler=fi.JAVA_HANDLER, Code={"ZipFile": fi.java_handler_zip()}
    )
    body = invoke(lam, java, {"n": 2})
    assert body["event"] == {"n": 2} and body["uid"] == 993, body
    assert body["context"]["function_name"] == java, body
    assert len(_publishes(server, "lambkin/java17")) == 1, server.log()
    print(
        f"first publish: provided.al2023 {_seconds(_publishes(server, 'lambkin/provided.al2023'))}"
        f", java17 {_seconds(_publishes(server, 'lambkin/java17'))}"
    )
    assert any(m.startswith("hello from java") for m in server.log_messages(java, "hello from"))
    waited = sum(wait_pulled(r) for r in ("lambkin/provided.al2023", "lambkin/java17"))
    print(f"every node had pulled them ahead {waited:.1f} s later")


def test_an_image_function_runs_on_the_swarm_from_its_published_image(
    server: Server, lam: Client, cluster: Cluster
) -> None:
    """A container image (only a static aws-lambda-go binary: no shell, no libc) from this
    host's engine, published with the agent as lambkin/functions:<image id>-<agent digest>,
    run as a service on a node with its ENTRYPOINT."""
    image = fi.go_scratch_image()
    name = _create(lam, PackageType="Image", Code={"ImageUri": image.tag})
    body = invoke(lam, name, {"n": 3})
    assert body["event"] == {"n": 3} and body["uid"] == 993, body
    assert body["context"]["function_name"] == name, body
    assert invoke(lam, name, {"n": 4})["count"] == 2  # warm: the same instance
    [line] = _publishes(server, "lambkin/functions")
    reference = line.split(" as ")[1].split()[0]
    client = docker.from_env()
    try:
        image_id = str(client.images.get(image.tag).id).removeprefix("sha256:")
    finally:
        client.close()
    assert reference.split(":")[-1].startswith(image_id[:16]), reference
    placed = cluster.node_of_instances(server.health()["server_id"], instance_ids(server, name))
    assert len(placed) == 1, placed
    assert any(m.startswith("hello from go") for m in server.log_messages(name, "hello from"))


OTHER_RUNTIMES = [
    (
        "ruby3.3",
        "app.rb",
        "def handler(event:, context:)\n"
        "  { 'event' => event, 'env' => ENV['AWS_EXECUTION_ENV'], 'uid' => Process.uid,\n"
        "    'function' => context.function_name }\n"
        "end\n",
    ),
    (
        "nodejs20.x",
        "app.js",
        "exports.handler = async (event, context) => ({ event, env: process.env.AWS_EXECUTION_ENV,"
        " uid: process.getuid(), function: context.functionName });\n",
    ),
    (
        "python3.13",
        "app.py",
        "import os\n\ndef handler(event, context):\n"
        "    return {'event': event, 'env': os.environ['AWS_EXECUTION_ENV'], 'uid': os.getuid(),"
        " 'function': context.function_name}\n",
    ),
]


def test_ruby_a_newer_node_and_a_newer_python_run_on_the_swarm(
    server: Server, lam: Client, cluster: Cluster
) -> None:
    """Three more runtimes on the cluster, each published by its first start (at once, as a
    team's first deploys would be), each answering as on docker: the event, its runtime's
    AWS_EXECUTION_ENV, the function's uid, the context."""

    def run(runtime: str, filename: str, source: str) -> tuple[str, str, dict[str, Any]]:
        code = {"ZipFile": make_zip({filename: source})}
        name = _create(lam, Runtime=runtime, Handler="app.handler", Code=code)
        return runtime, name, invoke(lam, name, {"runtime": runtime})

    with ThreadPoolExecutor(len(OTHER_RUNTIMES)) as pool:
        results = list(pool.map(lambda case: run(*case), OTHER_RUNTIMES))
    owner = server.health()["server_id"]
    for runtime, name, body in results:
        assert body == {
            "event": {"runtime": runtime},
            "env": f"AWS_Lambda_{runtime}",
            "uid": 993,
            "function": name,
        }, (runtime, body)
        assert len(_publishes(server, f"lambkin/{runtime}")) == 1, server.log()
        # It ran as a swarm service.
        assert len(cluster.node_of_instances(owner, instance_ids(server, name))) == 1
    print(", ".join(f"{r}: {_seconds(_publishes(server, f'lambkin/{r}'))}" for r, _, _ in results))
