"""Our Python runtime client (`python3 -m lambkin_runtime`) under AWS's Runtime Interface Emulator.

RIE is AWS's own Runtime API server: whatever it accepts and how it answers the invoker is the
reference. Where RIE leaves something out (it never forwards a trace id, and always sends
`Content-Type: application/json`), a scripted Runtime API at the end of this file stands in.
Several scenarios also run AWS's own client, awslambdaric, under the same RIE and demand the
very same answer from ours.

The handlers live in tests/conformance/functions/python/ (copied to a temporary task root).
"""

from __future__ import annotations

import base64
import http.client
import http.server
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.support.oracles import awslambdaric_dir, rie_binary
from tests.support.processes import stop_process

REPO = Path(__file__).resolve().parents[2]
CLIENT_DIR = REPO / "runtime-images" / "python"
FUNCTIONS_DIR = Path(__file__).resolve().parent / "functions" / "python"
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

FUNCTION_ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "conformance-fn",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_FUNCTION_TIMEOUT": "30",
    "AWS_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Rie:
    """One aws-lambda-rie process with one runtime command; it serves one invocation at a time."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.invoke_port = free_port()
        self.api_port = free_port()
        self.log_path = log
        self._log = open(log, "wb")
        self.process = subprocess.Popen(
            [
                str(rie_binary()),
                "--runtime-interface-emulator-address",
                f"127.0.0.1:{self.invoke_port}",
                "--runtime-api-address",
                f"127.0.0.1:{self.api_port}",
                *command,
            ],
            env=env,
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.invoke_port), timeout=1).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"RIE did not start:\n{self.output()}") from None
                time.sleep(0.02)

    def invoke(self, payload: bytes, headers: dict[str, str] | None = None) -> Answer:
        connection = http.client.HTTPConnection("127.0.0.1", self.invoke_port, timeout=30)
        try:
            connection.request("POST", INVOKE_PATH, payload, headers or {})
            response = connection.getresponse()
            return Answer(response.status, response.read())
        finally:
            connection.close()

    def invoke_json(self, event: Any, headers: dict[str, str] | None = None) -> Answer:
        return self.invoke(json.dumps(event).encode(), headers)

    def output(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def wait_for_output(self, pattern: str, timeout: float = 3.0) -> str:
        """The output once `pattern` (a regex) appears in it."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.output()
            if re.search(pattern, text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} never appeared in RIE's output:\n{text}")
            time.sleep(0.02)

    def close(self) -> None:
        stop_process(self.process)
        self._log.close()


class StartRie(Protocol):
    def __call__(self, handler: str | None, client: str = "ours", **env: str) -> Rie: ...


def base_env(**extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        **FUNCTION_ENV,
    }
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def task_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("task")
    shutil.copytree(
        FUNCTIONS_DIR, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__")
    )
    # A module that does not compile is written here, not kept in the repository (linters).
    (root / "broken_syntax.py").write_text("def handler(event, context):\n    return (\n")
    return root


@pytest.fixture(scope="module")
def start_rie(tmp_path_factory: pytest.TempPathFactory, task_root: Path) -> Iterator[StartRie]:
    """start_rie(handler, client="ours"|"awslambdaric", **env) -> a running Rie."""
    started: list[Rie] = []
    elsewhere = tmp_path_factory.mktemp("cwd")  # not the task root: LAMBDA_TASK_ROOT must count

    def start(handler: str | None, client: str = "ours", **env: str) -> Rie:
        log = tmp_path_factory.mktemp("rie") / "output.log"
        if client == "ours":
            command = [sys.executable, "-m", "lambkin_runtime"] + ([handler] if handler else [])
            environment = base_env(PYTHONPATH=str(CLIENT_DIR), LAMBDA_TASK_ROOT=str(task_root))
            cwd = elsewhere
        else:
            assert handler is not None
            command = [sys.executable, "-m", "awslambdaric", handler]
            environment = base_env(
                PYTHONPATH=f"{task_root}:{awslambdaric_dir()}", LAMBDA_TASK_ROOT=str(task_root)
            )
            cwd = task_root
        environment.update(env)
        rie = Rie(command, environment, cwd, log)
        started.append(rie)
        return rie

    yield start
    for rie in started:
        rie.close()


@pytest.fixture(scope="module")
def app(start_rie: StartRie) -> Rie:
    """Our client serving app.handler; a stale trace id in its environment must not leak."""
    return start_rie("app.handler", _X_AMZN_TRACE_ID="Root=1-00000000-stale")


@pytest.fixture(scope="module")
def app_under_awslambdaric(start_rie: StartRie) -> Rie:
    return start_rie("app.handler", client="awslambdaric")


def without_request_id(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "requestId"}


# --- events and results --------------------------------------------------------------------


def test_echoes_a_large_nested_unicode_event(app: Rie) -> None:
    event = {
        "text": "héllo wörld ✓ 日本語 🐑",
        "nested": {"list": [1, 2.5, None, True, {"deep": ["x"] * 3}], "empty": {}},
        "bulk": ["ünïcödé-" + str(i) for i in range(60_000)],
    }
    payload = json.dumps(event, ensure_ascii=False).encode()
    assert len(payload) > 900_000
    answer = app.invoke(payload)
    assert answer.status == 200
    assert answer.json() == event
    assert b"\\u00e9" in answer.body  # ASCII-escaped JSON, as awslambdaric on python3.11


def test_scalar_events_and_results_round_trip(app: Rie) -> None:
    for event in ["just a string", 42, 1.5, None, [1, "two"], True]:
        answer = app.invoke_json(event)
        assert answer.status == 200
        assert answer.json() == event


def test_bytes_returned_are_sent_as_they_are(app: Rie) -> None:
    answer = app.invoke_json({"op": "raw_bytes"})
    assert (answer.status, answer.body) == (200, b"raw \x00 bytes")


def test_module_state_survives_between_invocations(app: Rie) -> None:
    first = app.invoke_json({"op": "count"}).json()
    second = app.invoke_json({"op": "count"}).json()
    assert second["invocations"] == first["invocations"] + 1
    assert (second["pid"], second["imported_at"]) == (first["pid"], first["imported_at"])


def test_tmp_is_kept_between_invocations(app: Rie) -> None:
    name = f"lambkin-conformance-{uuid.uuid4().hex}"
    content = f"written at {time.time()}"
    path = app.invoke_json({"op": "tmp_write", "name": name, "content": content}).json()
    try:
        assert app.invoke_json({"op": "tmp_read", "name": name}).json() == content
    finally:
        Path(path).unlink()


# --- the context object ----------------------------------------------------------------------


def test_context_fields(app: Rie) -> None:
    client_context = {
        "client": {"installation_id": "install-1", "app_title": "Sheep counter"},
        "custom": {"flock": "north"},
        "env": {"platform": "test"},
    }
    headers = {
        "X-Amz-Client-Context": base64.b64encode(json.dumps(client_context).encode()).decode(),
        "X-Amz-Cognito-Identity": json.dumps(
            {"cognitoIdentityId": "identity-1", "cognitoIdentityPoolId": "pool-1"}
        ),
    }
    answer = app.invoke_json({"op": "context"}, headers)
    assert answer.status == 200
    fields = answer.json()

    request_id = fields["aws_request_id"]
    assert UUID_RE.match(request_id)
    app.wait_for_output(rf"START RequestId: {request_id} ")  # the id RIE gave this invocation
    assert fields["function_name"] == "conformance-fn"
    assert fields["memory_limit_in_mb"] == 512
    assert (
        fields["function_version"] == fields["environ"]["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    )
    assert fields["log_group_name"] == fields["environ"]["AWS_LAMBDA_LOG_GROUP_NAME"]
    assert fields["log_stream_name"] == fields["environ"]["AWS_LAMBDA_LOG_STREAM_NAME"]
    assert fields["invoked_function_arn"].startswith("arn:aws:lambda:")
    first, second = fields["remaining_ms"]
    assert 0 < second < first <= 30_000
    assert first - second >= 40  # the handler slept 50 ms between the two reads
    assert fields["cognito_identity_id"] == "identity-1"
    assert fields["cognito_identity_pool_id"] == "pool-1"
    assert fields["client_installation_id"] == "install-1"
    assert fields["client_app_title"] == "Sheep counter"
    assert fields["client_custom"] == {"flock": "north"}
    assert fields["client_env"] == {"platform": "test"}


def test_context_without_client_context_or_identity(app: Rie) -> None:
    fields = app.invoke_json({"op": "context"}).json()
    assert fields["client_custom"] is None and fields["client_installation_id"] is None
    assert fields["cognito_identity_id"] is None  # context.identity exists, its fields are None


def test_rie_sends_no_trace_id_so_a_stale_one_is_removed(app: Rie) -> None:
    # RIE drops the invoker's X-Amzn-Trace-Id: /next carries no Lambda-Runtime-Trace-Id, so the
    # client must delete the _X_AMZN_TRACE_ID it inherited (see the scripted API for the rest).
    headers = {"X-Amzn-Trace-Id": "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"}
    answer = app.invoke_json({"op": "trace"}, headers)
    assert answer.json() == {"_X_AMZN_TRACE_ID": None}


# --- output ----------------------------------------------------------------------------------


def invocation_output(rie: Rie, request_id: str) -> str:
    """What was printed between this invocation's START and END lines."""
    text = rie.wait_for_output(rf"END RequestId: {request_id}")
    start = text.index(f"START RequestId: {request_id}")
    return text[start : text.index(f"END RequestId: {request_id}", start)]


def test_prints_are_attributed_to_their_invocation(app: Rie) -> None:
    line, err_line = f"stdout-{uuid.uuid4().hex}", f"stderr-{uuid.uuid4().hex}"
    answer = app.invoke_json({"op": "say", "line": line, "err_line": err_line})
    assert answer.json()["said"] is True
    output = invocation_output(app, answer.json()["request_id"])
    assert f"\n{line}\n" in output
    assert f"\n{err_line}\n" in output


def test_log_records_have_aws_format(app: Rie) -> None:
    message = f"record-{uuid.uuid4().hex}"
    request_id = app.invoke_json({"op": "log", "message": message}).json()
    output = invocation_output(app, request_id)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.search(rf"\n\[WARNING\]\t{stamp}\t{request_id}\t{message}\n", output), output
    # one record, one line, even when the message has several
    assert re.search(rf"\n\[ERROR\]\t{stamp}\t{request_id}\tfirst line\rsecond line\n", output)
    assert "below the default WARNING level" not in output


# --- function errors -------------------------------------------------------------------------


def test_handler_exception(app: Rie) -> None:
    before = app.invoke_json({"op": "count"}).json()["invocations"]
    answer = app.invoke_json({"op": "fail", "message": "the fence is down"})
    assert answer.status == 200  # RIE answers 200 with the error document
    error = answer.json()
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the fence is down"
    assert UUID_RE.match(error["requestId"])
    trace = error["stackTrace"]
    assert all(isinstance(frame, str) for frame in trace) and len(trace) == 3
    assert all("lambkin_runtime" not in frame for frame in trace)  # our own frames are cut
    assert re.fullmatch(r'  File ".*/app\.py", line \d+, in handler\n    return OPS.*\n', trace[0])
    assert re.fullmatch(
        r'  File ".*/app\.py", line \d+, in deeper\n    raise ValueError\(message\)\n', trace[2]
    )
    output = invocation_output(app, error["requestId"])
    nbsp = "\u00a0"
    assert (
        "\n[ERROR] ValueError: the fence is down\rTraceback (most recent call last):\r"
        f"{nbsp * 2}File " in output
    )
    # the runtime lives on, with its state
    assert app.invoke_json({"op": "count"}).json()["invocations"] == before + 2


def test_unserialisable_result(app: Rie) -> None:
    error = app.invoke_json({"op": "unserialisable"}).json()
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"] == (
        "Unable to marshal response: Object of type set is not JSON serializable"
    )
    assert error["stackTrace"] == []


@pytest.mark.parametrize("payload", [b"", b"{not json"], ids=["empty", "invalid"])
def test_undecodable_event(app: Rie, payload: bytes) -> None:
    # awslambdaric does not turn an empty body into {}: it fails to unmarshal it
    error = app.invoke(payload).json()
    assert error["errorType"] == "Runtime.UnmarshalError"
    assert error["errorMessage"].startswith("Unable to unmarshal input: Expecting")


def test_response_too_large_ends_only_that_invocation(app: Rie) -> None:
    before = app.invoke_json({"op": "count"}).json()
    answer = app.invoke_json({"op": "big", "size": 7_000_000})
    assert answer.json()["errorType"] == "Function.ResponseSizeTooLarge"
    after = app.invoke_json({"op": "count"}).json()
    # awslambdaric dies here (and RIE starts it again); ours goes on in the same process
    assert (after["pid"], after["invocations"]) == (before["pid"], before["invocations"] + 2)


def test_one_persistent_connection_to_the_runtime_api(app: Rie) -> None:
    for _ in range(5):
        app.invoke_json({"op": "count"})
    # Every TCP socket on the Runtime API port, but the listener: one connection has two ends.
    # A client opening a connection per request would leave TIME_WAIT entries behind.
    sockets = []
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, state = fields[1], fields[2], fields[3]
        ports = {int(local.split(":")[1], 16), int(remote.split(":")[1], 16)}
        if app.api_port in ports and state != "0A":  # 0A: LISTEN
            sockets.append(state)
    assert sockets == ["01", "01"], sockets  # 01: ESTABLISHED


# --- same answers as awslambdaric ------------------------------------------------------------

DIFFERENTIAL_EVENTS = [
    pytest.param(b'{"op": "fail", "message": "m\\u00e9ssage"}', id="exception"),
    pytest.param(b'{"op": "unserialisable"}', id="marshal-error"),
    pytest.param(b"", id="empty-event"),
    # (simplejson, which awslambdaric uses, words some other syntax errors differently)
    pytest.param(b'{"a": }', id="invalid-json"),
    pytest.param(b"\xff", id="invalid-utf8"),
    pytest.param(b'{"op": "raw_bytes"}', id="bytes"),
    pytest.param('{"échó": ["ü", 1.5e300, null]}'.encode(), id="unicode-echo"),
]


@pytest.mark.parametrize("payload", DIFFERENTIAL_EVENTS)
def test_same_answer_as_awslambdaric(app: Rie, app_under_awslambdaric: Rie, payload: bytes) -> None:
    ours, theirs = app.invoke(payload), app_under_awslambdaric.invoke(payload)
    assert ours.status == theirs.status
    if theirs.body.startswith(b'{"errorMessage"'):
        assert without_request_id(ours.json()) == without_request_id(theirs.json())
    else:
        assert ours.body == theirs.body


# --- init errors -----------------------------------------------------------------------------

INIT_FAILURES = [
    pytest.param(
        "missing_module.handler",
        "Runtime.ImportModuleError",
        "Unable to import module 'missing_module': No module named 'missing_module'",
        id="missing-module",
    ),
    pytest.param(
        "nested/missing.handler",
        "Runtime.ImportModuleError",
        "Unable to import module 'nested/missing': No module named 'nested.missing'",
        id="missing-module-in-dir",
    ),
    pytest.param(
        "app.no_such_function",
        "Runtime.HandlerNotFound",
        "Handler 'no_such_function' missing on module 'app'",
        id="missing-function",
    ),
    pytest.param(
        "broken_syntax.handler",
        "Runtime.UserCodeSyntaxError",
        "Syntax error in module 'broken_syntax': '(' was never closed (broken_syntax.py, line 2)",
        id="syntax-error",
    ),
    pytest.param(
        "no_dot_at_all",
        "Runtime.MalformedHandlerName",
        "Bad handler 'no_dot_at_all': not enough values to unpack (expected 2, got 1)",
        id="malformed",
    ),
    pytest.param(
        "init_raises.handler",
        "RuntimeError",
        "configuration missing at import",
        id="exception-at-import",
    ),
]


@pytest.mark.parametrize(("handler", "error_type", "message"), INIT_FAILURES)
def test_init_error(start_rie: StartRie, handler: str, error_type: str, message: str) -> None:
    ours = start_rie(handler)
    theirs = start_rie(handler, client="awslambdaric")
    answer = ours.invoke_json({})
    assert answer.status == 502
    error = answer.json()
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == (
        error_type,
        message,
        "",
    )
    # Byte for byte what awslambdaric reports, stack trace included.
    assert answer.body == theirs.invoke_json({}).body
    ours.wait_for_output(re.escape(f"[ERROR] {error_type}: {message}\rTraceback"))
    ours.close()
    theirs.close()


def test_init_error_stack_trace_is_the_user_code(start_rie: StartRie) -> None:
    error = start_rie("init_raises.handler").invoke_json({}).json()
    assert "lambkin_runtime" not in "".join(error["stackTrace"])
    assert error["stackTrace"][-1].endswith(
        'in _configure\n    raise RuntimeError("configuration missing at import")\n'
    )


# --- start-up --------------------------------------------------------------------------------


def test_handler_from_env_with_a_directory(start_rie: StartRie) -> None:
    rie = start_rie(None, _HANDLER="nested/deep.handler")  # no argv: _HANDLER it is
    answer = rie.invoke_json({"k": "v"})
    assert answer.json() == {"module": "nested.deep", "event": {"k": "v"}}


def test_long_poll_ignores_a_default_socket_timeout_set_by_user_code(start_rie: StartRie) -> None:
    rie = start_rie("short_socket_timeout.handler")  # sets socket.setdefaulttimeout(0.2)
    first = rie.invoke_json({}).json()
    time.sleep(0.5)  # the runtime waits on /next all this time
    second = rie.invoke_json({}).json()
    assert (second["pid"], second["invocations"]) == (first["pid"], 2)


# --- what RIE cannot show: a scripted Runtime API -------------------------------------------


class ScriptedRuntimeApi:
    """A minimal Runtime API: hands out queued events, records what the runtime posts."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[dict[str, str], bytes] | None] = queue.Queue()
        self.posts: queue.Queue[tuple[str, dict[str, str], bytes]] = queue.Queue()
        self.connections = 0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                api.connections += 1

            def do_GET(self) -> None:
                item = api.events.get()
                if item is None:  # closing: let the long poll go
                    self.send_error(503)
                    self.close_connection = True
                    return
                headers, body = item
                self.send_response(200)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                api.posts.put((self.path, dict(self.headers), body))
                answer = b'{"status":"OK"}'
                self.send_response(202)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, body: bytes, **headers: str) -> tuple[str, dict[str, str], bytes]:
        request_id = str(uuid.uuid4())
        deadline = str(int(time.time() * 1000) + 10_000)
        self.events.put(
            (
                {
                    "Lambda-Runtime-Aws-Request-Id": request_id,
                    "Lambda-Runtime-Deadline-Ms": deadline,
                    **headers,
                },
                body,
            )
        )
        path, posted_headers, posted = self.posts.get(timeout=10)
        assert path == f"/2018-06-01/runtime/invocation/{request_id}/response", (path, posted)
        return path, posted_headers, posted

    def close(self) -> None:
        self.events.put(None)  # a runtime still waiting on /next must not hold the server
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted(task_root: Path, tmp_path: Path) -> Iterator[ScriptedRuntimeApi]:
    api = ScriptedRuntimeApi()
    env = base_env(
        PYTHONPATH=str(CLIENT_DIR),
        LAMBDA_TASK_ROOT=str(task_root),
        AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api.port}",
        _X_AMZN_TRACE_ID="Root=1-00000000-stale",
    )
    with open(tmp_path / "runtime.log", "wb") as log:
        runtime = subprocess.Popen(
            [sys.executable, "-m", "lambkin_runtime", "app.handler"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield api
        finally:
            runtime.terminate()
            runtime.wait(timeout=5)
            api.close()


def test_trace_id_is_set_per_invocation_and_removed_when_absent(
    scripted: ScriptedRuntimeApi,
) -> None:
    trace_id = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    event = b'{"op": "trace"}'
    _, _, body = scripted.invoke(event, **{"Lambda-Runtime-Trace-Id": trace_id})
    assert json.loads(body) == {"_X_AMZN_TRACE_ID": trace_id}
    _, _, body = scripted.invoke(event)
    assert json.loads(body) == {"_X_AMZN_TRACE_ID": None}
    assert scripted.connections == 1


def test_event_is_decoded_only_when_it_is_json(scripted: ScriptedRuntimeApi) -> None:
    event = b'{"op": "event_type"}'
    _, headers, body = scripted.invoke(event, **{"Content-Type": "application/json"})
    assert (json.loads(body), headers["Content-Type"]) == ("dict", "application/json")
    _, _, body = scripted.invoke(event)  # no Content-Type: JSON is the default
    assert json.loads(body) == "dict"
    _, headers, body = scripted.invoke(event, **{"Content-Type": "text/plain"})
    # the handler got bytes (not a dict with an "op"), echoed them, and they went back raw
    assert (body, headers["Content-Type"]) == (event, "application/unknown")
