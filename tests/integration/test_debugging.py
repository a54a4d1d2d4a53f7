"""Debugging on a real server, each driver: a function tagged lambkin:debug starts with its
language's debugger on a loopback port, waits for a client, stops at a breakpoint set the way
an IDE sets it, and the breakpoint outlives the function's timeout; detached, the timeout is
back. Python through debugpy's Debug Adapter Protocol, Node.js through the inspector's
DevTools protocol, Java through JDWP; and `lambkin invoke --debug`, which prints VS Code's
attach configuration and leaves the function as it found it."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.debug_clients import (
    DapClient,
    InspectorClient,
    debugpy_attach,
    jdwp_attach,
    jdwp_resume,
)
from tests.support.server import Server, free_port, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]
TIMEOUT_S = 2  # the function's; every breakpoint below is held for twice as long
HOLD_S = 2 * TIMEOUT_S

PYTHON_APP = """import time


def handler(event, context):
    started = time.monotonic()
    answer = {"n": event.get("n")}
    answer["held_s"] = round(time.monotonic() - started, 1)
    time.sleep(event.get("sleep", 0))
    return answer
"""
PYTHON_BREAK_LINE = 6  # answer = ...

NODE_APP = """export const handler = async (event) => {
  const started = Date.now();
  const answer = { n: event.n };
  answer.held_s = (Date.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, (event.sleep || 0) * 1000));
  return answer;
};
"""
NODE_BREAK_LINE = 2  # const answer = ... (0-based, as the DevTools protocol counts)

JAVA_APP = """package example;

import java.util.Map;

public class Sleeper {
    public String handleRequest(Map<String, Object> event) throws InterruptedException {
        Object sleep = event.get("sleep");
        Thread.sleep(sleep == null ? 0 : (long) (((Number) sleep).doubleValue() * 1000));
        return "slept";
    }
}
"""


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"debug-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


def create(
    server: Server, runtime: str, handler: str, files: dict[str, bytes], port: int
) -> dict[str, Any]:
    name = f"debug-{runtime.replace('.', '')}-{uuid.uuid4().hex[:6]}"
    return dict(
        server.client().create_function(
            FunctionName=name,
            Runtime=runtime,
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": make_zip(files)},
            Timeout=TIMEOUT_S,
            Tags={"lambkin:debug": str(port)},
        )
    )


class Call:
    """An invocation running in the background (it waits on the debugger)."""

    def __init__(self, server: Server, name: str, event: dict[str, Any]) -> None:
        self.answer: dict[str, Any] = {}
        self.error: BaseException | None = None

        def run() -> None:
            try:
                reply = server.client(read_timeout=300).invoke(
                    FunctionName=name, Payload=json.dumps(event).encode()
                )
                self.answer = {
                    "payload": json.loads(reply["Payload"].read()),
                    "error": reply.get("FunctionError"),
                }
            except BaseException as exc:  # reported by result()
                self.error = exc

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def result(self, timeout: float = 120) -> dict[str, Any]:
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "the invocation did not end"
        if self.error is not None:
            raise self.error
        return self.answer


def invoke(server: Server, name: str, event: dict[str, Any]) -> dict[str, Any]:
    return Call(server, name, event).result()


def task_path(server: Server, config: dict[str, Any], file: str) -> str:
    """Where the function's file is as the debugger sees it: /var/task in a container, the
    code store's unpacked folder under the process driver."""
    if server.driver == "docker":
        return f"/var/task/{file}"
    sha_hex = base64.b64decode(config["CodeSha256"]).hex()
    return str(server.data_dir / "code" / "unpacked" / sha_hex / file)


def continue_from_breakpoint(client: DapClient, path: str) -> None:
    stopped = client.event("stopped", timeout=90)
    assert stopped["body"]["reason"] == "breakpoint", stopped
    thread_id = stopped["body"]["threadId"]
    frames = client.request("stackTrace", threadId=thread_id, levels=1)["body"]["stackFrames"]
    assert frames[0]["line"] == PYTHON_BREAK_LINE and frames[0]["source"]["path"] == path, frames
    time.sleep(HOLD_S)  # past the function's timeout, stopped in the debugger
    assert client.request("continue", threadId=thread_id)["success"]


def test_python_breakpoint_outlives_the_timeout_under_debugpy(server: Server) -> None:
    port = free_port()
    config = create(server, "python3.11", "app.handler", {"app.py": PYTHON_APP.encode()}, port)
    name, path = config["FunctionName"], task_path(server, config, "app.py")

    first = Call(server, name, {"n": 1})  # the instance starts, and waits for a client
    client = debugpy_attach(port, path, PYTHON_BREAK_LINE)
    try:
        continue_from_breakpoint(client, path)
        answer = first.result()
        assert answer["error"] is None, answer
        assert answer["payload"]["n"] == 1 and answer["payload"]["held_s"] >= HOLD_S, answer

        # The same instance, still attached: the breakpoint holds the next invocation too.
        second = Call(server, name, {"n": 2})
        continue_from_breakpoint(client, path)
        assert second.result()["payload"]["n"] == 2
        assert len(server.instances(name)) == 1

        client.request("setBreakpoints", source={"path": path}, breakpoints=[])
        client.request("disconnect", terminateDebuggee=False)
    finally:
        client.close()
    time.sleep(0.5)  # the agent sees the connection go
    timed_out = invoke(server, name, {"n": 3, "sleep": TIMEOUT_S + 1})
    assert timed_out["error"] == "Unhandled", timed_out
    assert f"Task timed out after {TIMEOUT_S}.00 seconds" in timed_out["payload"]["errorMessage"]


def test_node_breakpoint_outlives_the_timeout_under_the_inspector(server: Server) -> None:
    port = free_port()
    config = create(server, "nodejs18.x", "app.handler", {"app.mjs": NODE_APP.encode()}, port)
    name = config["FunctionName"]

    call = Call(server, name, {"n": 1})
    inspector = InspectorClient(port)
    try:
        inspector.call("Debugger.enable")
        inspector.call("Runtime.enable")
        placed = inspector.call(
            "Debugger.setBreakpointByUrl", urlRegex=r"/app\.mjs$", lineNumber=NODE_BREAK_LINE
        )
        assert "breakpointId" in placed.get("result", {}), placed
        inspector.call("Runtime.runIfWaitingForDebugger")
        first_stop = inspector.paused()  # --inspect-brk: the runtime's first statement
        if not first_stop["params"].get("hitBreakpoints"):
            inspector.call("Debugger.resume")
            first_stop = inspector.paused()
        frame = first_stop["params"]["callFrames"][0]
        assert first_stop["params"]["hitBreakpoints"], first_stop
        assert inspector.script_url(frame["location"]["scriptId"]).endswith("/app.mjs"), frame
        assert frame["location"]["lineNumber"] == NODE_BREAK_LINE, frame
        time.sleep(HOLD_S)
        inspector.call("Debugger.resume")
        answer = call.result()
        assert answer["error"] is None, answer
        assert answer["payload"]["n"] == 1 and answer["payload"]["held_s"] >= HOLD_S, answer
    finally:
        inspector.close()
    time.sleep(0.5)
    timed_out = invoke(server, name, {"n": 2, "sleep": TIMEOUT_S + 1})
    assert timed_out["error"] == "Unhandled", timed_out
    assert f"Task timed out after {TIMEOUT_S}.00 seconds" in timed_out["payload"]["errorMessage"]


@pytest.fixture(scope="module")
def java_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    assert shutil.which("javac"), "needs a JDK (make host-runtimes)"
    tmp = tmp_path_factory.mktemp("java-debug")
    source = tmp / "example" / "Sleeper.java"
    source.parent.mkdir(parents=True)
    source.write_text(JAVA_APP)
    javac = ["javac", "--release", "17", "-nowarn", "-d", str(tmp / "classes"), str(source)]
    subprocess.run(javac, check=True, timeout=120)
    return make_zip(
        {"example/Sleeper.class": (tmp / "classes" / "example" / "Sleeper.class").read_bytes()}
    )


def test_java_attached_over_jdwp_suspends_the_timeout(server: Server, java_zip: bytes) -> None:
    port = free_port()
    name = f"debug-java17-{uuid.uuid4().hex[:6]}"
    server.client().create_function(
        FunctionName=name,
        Runtime="java17",
        Role=ROLE,
        Handler="example.Sleeper::handleRequest",
        Code={"ZipFile": java_zip},
        Timeout=TIMEOUT_S,
        MemorySize=512,
        Tags={"lambkin:debug": str(port)},
    )
    call = Call(server, name, {"sleep": HOLD_S})  # twice the timeout, a debugger attached
    debugger = jdwp_attach(port)
    try:
        jdwp_resume(debugger)  # started with suspend=y: nothing ran before the debugger came
        answer = call.result()
        assert answer == {"payload": "slept", "error": None}, answer
    finally:
        debugger.close()
    time.sleep(0.5)
    timed_out = invoke(server, name, {"sleep": TIMEOUT_S + 1})
    assert timed_out["error"] == "Unhandled", timed_out
    assert f"Task timed out after {TIMEOUT_S}.00 seconds" in timed_out["payload"]["errorMessage"]


def test_tagging_restarts_instances_with_the_debugger_and_untagging_without(
    server: Server,
) -> None:
    client = server.client()
    port = free_port()
    config = create(server, "python3.11", "app.handler", {"app.py": PYTHON_APP.encode()}, port)
    name, arn = config["FunctionName"], config["FunctionArn"]
    client.untag_resource(Resource=arn, TagKeys=["lambkin:debug"])
    assert invoke(server, name, {"n": 1})["payload"]["n"] == 1  # no debugger: no wait
    undebugged = {i["InstanceId"] for i in server.instances(name)}

    client.tag_resource(Resource=arn, Tags={"lambkin:debug": str(port)})
    call = Call(server, name, {"n": 2})
    client_ = debugpy_attach(port, task_path(server, config, "app.py"), PYTHON_BREAK_LINE)
    try:
        client_.event("stopped", timeout=90)
        client_.request("setBreakpoints", source={"path": "x"}, breakpoints=[])
        client_.request("disconnect", terminateDebuggee=False)
    finally:
        client_.close()
    assert call.result()["payload"]["n"] == 2
    debugged = {i["InstanceId"] for i in server.instances(name)}
    assert debugged and not debugged & undebugged, (undebugged, debugged)


@pytest.mark.parametrize(
    ("value", "runtime", "message"),
    [
        ("5678", "provided.al2023", "Lambkin has no debugger for runtime provided.al2023"),
        ("80", "python3.11", "must be 'on' or a port from 1024 to 65535"),
        ("debug", "python3.11", "must be 'on' or a port from 1024 to 65535"),
    ],
)
def test_a_debug_tag_it_cannot_honour_is_refused(
    server: Server, value: str, runtime: str, message: str
) -> None:
    client = server.client()
    handler = "app.handler"
    files = {"bootstrap" if runtime.startswith("provided") else "app.py": b"pass\n"}
    with pytest.raises(client.exceptions.InvalidParameterValueException) as refused:
        client.create_function(
            FunctionName=f"debug-bad-{uuid.uuid4().hex[:6]}",
            Runtime=runtime,
            Role=ROLE,
            Handler=handler,
            Code={"ZipFile": make_zip(files)},
            Tags={"lambkin:debug": value},
        )
    assert message in refused.value.response["Error"]["Message"]
    name = f"debug-later-{uuid.uuid4().hex[:6]}"
    arn = client.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": make_zip(files)},
    )["FunctionArn"]
    with pytest.raises(client.exceptions.InvalidParameterValueException):
        client.tag_resource(Resource=arn, Tags={"lambkin:debug": value})
    assert "lambkin:debug" not in client.list_tags(Resource=arn)["Tags"]


def test_lambkin_invoke_debug_prints_the_attach_configuration(server: Server) -> None:
    port = free_port()
    config = create(server, "python3.11", "app.handler", {"app.py": PYTHON_APP.encode()}, port)
    name, arn = config["FunctionName"], config["FunctionArn"]
    server.client().untag_resource(Resource=arn, TagKeys=["lambkin:debug"])
    command = [sys.executable, "-m", "orchestrator", "invoke", name, "--debug-port", str(port)]
    command += ["--payload", json.dumps({"n": 7})]
    env = {**os.environ, "LAMBKIN_ENDPOINT": server.endpoint}
    cli = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    path = task_path(server, config, "app.py")
    client = debugpy_attach(port, path, PYTHON_BREAK_LINE)
    try:
        continue_from_breakpoint(client, path)
    finally:
        client.close()
    output, _ = cli.communicate(timeout=120)
    text = output.decode()
    assert cli.returncode == 0, text
    lines = text.splitlines()
    start = lines.index("{")
    attach = json.loads("\n".join(lines[start : lines.index("}", start) + 1]))
    assert attach["type"] == "debugpy" and attach["connect"] == {"host": "127.0.0.1", "port": port}
    assert attach["pathMappings"][0]["remoteRoot"] == "/var/task"
    assert json.loads(text.strip().splitlines()[-1])["n"] == 7
    # It tagged the function for the call only.
    assert "lambkin:debug" not in server.client().list_tags(Resource=arn)["Tags"]
