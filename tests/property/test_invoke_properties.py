"""Invoke under random, hostile input: properties that hold after every single request.

Each case is one raw HTTP request to Invoke (a socket, not boto3, so nothing is sanitised on the
way): random X-Amz-Invocation-Type, X-Amz-Log-Type and X-Amz-Client-Context headers (base64 of
random JSON with unicode, control characters and line breaks between tokens, random bytes, text
that is not base64, oversized and deeply nested values), random function names and qualifiers in
the path (percent-encoded), and random payloads (JSON, not JSON, deeply nested, binary, large).
After every case:

- no unhandled exception in the server (its log) and no 5xx: the echo function cannot fail, so
  a 5xx would be a platform fault (and one would have to be AWS-shaped, x-amzn-ErrorType);
- every 4xx carries x-amzn-ErrorType and a JSON body with a message;
- a request the model calls valid is served exactly (the echo function returns the event and the
  client context's `custom`); one with a known defect gets a 4xx of the expected types;
- the server is healthy, no instance is left busy, the concurrency gauge is back to 0;
- a normal invocation still succeeds, on the same warm instance (no instance was lost).

Reproducible: derandomized (no example database), a fixed case count per driver. The number of
cases, the run time and the statuses seen are printed, and recorded as the test's properties.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.server import Server, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
FUNCTION = "prop-echo"
ECHO_ZIP = make_zip(
    {
        "app.py": (
            "def handler(event, context):\n"
            "    cc = context.client_context\n"
            "    return {'event': event, 'custom': cc.custom if cc else None}\n"
        )
    }
)
CLIENT_CONTEXT_MAX = 3583  # characters of base64, as Lambda limits it
SYNC_LIMIT, ASYNC_LIMIT = 6_291_456, 1_048_576
# Cases per driver: about 60 s on 2 CPUs in all, server start included.
MAX_EXAMPLES = {"process": 1000, "docker": 300}
DRIVERS = ["process", pytest.param("docker", marks=pytest.mark.docker)]

UNKNOWN = object()  # the model does not say what the server must answer


@dataclass
class Case:
    """One request and what the model expects of it."""

    path: str
    headers: list[tuple[str, bytes]]
    body: bytes
    invocation_type: str  # as the server reads it; "invalid" when not one of the three
    log_tail: bool
    event: Any = UNKNOWN  # the event the function must see (UNKNOWN: no exact expectation)
    custom: Any = None  # the client context's `custom` the function must see
    defects: set[str] = field(default_factory=set)  # error types a defect may answer
    unknown: bool = False  # some part is random: any well-formed answer will do

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # Hypothesis's failure report
        printer.text(repr(self))

    def __repr__(self) -> str:  # short, and enough to replay
        body = repr(self.body[:300]) + (
            f"... ({len(self.body)} bytes)" if len(self.body) > 300 else ""
        )
        headers = [(name, value[:300]) for name, value in self.headers]
        return (
            f"Case(path={self.path!r}, headers={headers!r}, body={body}, "
            f"invocation_type={self.invocation_type!r}, defects={self.defects!r}, "
            f"unknown={self.unknown})"
        )


# -- strategies ------------------------------------------------------------------------------

# Header text as any HTTP client can send it: printable Latin-1 (VCHAR, SP, obs-text).
header_text = st.text(
    alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]), max_size=40
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)  # any code point but surrogates: controls, "€", emoji, ...
    | st.sampled_from(["€", "\r\n", "\u2028", "\x00", "💥", "\\", '"'])
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=10,
)
WHITESPACE = ["", " ", "\n", "\r\n", "\r\n\r\n", "\t", "\r", " \n \r\n"]


def mostly(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`common` nine times in ten: cases with one or two defects, not one in every part."""
    return st.integers(0, 9).flatmap(lambda n: rare if n == 0 else common)


@st.composite
def json_text(draw: st.DrawFn, value: st.SearchStrategy[Any] = json_values) -> tuple[Any, str]:
    """A JSON value and a valid rendering of it, with random whitespace between the tokens."""
    obj = draw(value)
    ws = st.sampled_from(WHITESPACE)
    indent: int | str | None = draw(st.sampled_from([None, 0, 1, "\t", "\r\n", "\r\n\r\n"]))
    text = json.dumps(
        obj,
        ensure_ascii=draw(st.booleans()),
        indent=indent,
        separators=("," + draw(ws), ":" + draw(ws)),
    )
    return obj, draw(ws) + text + draw(ws)


def nested(depth: int) -> str:
    return '{"a":' + "[" * depth + "]" * depth + "}"


@st.composite
def client_contexts(draw: st.DrawFn) -> tuple[bytes | None, Any, str | None]:
    """(header value or None, the `custom` the function sees or UNKNOWN, the defect or None)."""
    kind = draw(st.sampled_from(["none"] * 4 + ["object"] * 8 + ["bytes", "text", "deep", "array"]))
    if kind == "none":
        return None, None, None
    if kind == "object":
        context = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "custom": json_values,
                    "env": st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
                    "client": st.dictionaries(st.text(max_size=6), json_scalars, max_size=3),
                    "pad": st.integers(0, 4000).map(lambda n: "x" * n),  # past the size limit
                },
            )
        )
        _, text = draw(json_text(st.just(context)))
        value = base64.b64encode(text.encode()).decode()
        if len(value) > CLIENT_CONTEXT_MAX:
            return value.encode(), UNKNOWN, "InvalidParameterValueException"
        return value.encode(), context.get("custom"), None
    if kind == "array":
        _, text = draw(json_text(st.lists(json_values, max_size=3)))
        return base64.b64encode(text.encode()), UNKNOWN, "InvalidParameterValueException"
    if kind == "deep":  # deeper than any JSON parser here goes (the base64 may also be too long)
        text = nested(draw(st.integers(1_300, 3_000)))
        return base64.b64encode(text.encode()), UNKNOWN, "InvalidParameterValueException"
    if kind == "bytes":
        raw = draw(st.binary(min_size=1, max_size=64))
        return base64.b64encode(raw), UNKNOWN, "unknown"
    return draw(header_text).encode("latin-1"), UNKNOWN, "unknown"


def _parse(body: bytes) -> Any:
    """What Python's JSON parser (the server's and the runtime's) makes of a payload; UNKNOWN
    when it refuses it."""

    def refuse(name: str) -> Any:
        raise ValueError(name)

    try:
        return json.loads(body, parse_constant=refuse)
    except (ValueError, RecursionError):
        return UNKNOWN


@st.composite
def payloads(draw: st.DrawFn) -> tuple[bytes, Any, str | None]:
    """(body, the event the function sees or UNKNOWN, the defect or None)."""
    kind = draw(
        st.sampled_from(["json"] * 12 + ["empty", "broken", "deep", "deep", "binary", "big"])
    )
    if kind == "json":
        obj, text = draw(json_text())
        return text.encode(), obj, None
    if kind == "empty":
        return draw(st.sampled_from([b"", b" ", b"\r\n"])), {}, None
    if kind == "deep":  # either side of Python's recursion limit, never near it
        depth = draw(st.integers(1, 200) | st.integers(5_000, 200_000))
        text = draw(
            st.sampled_from(["[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth])
        )
        if depth > 200:
            return text.encode(), UNKNOWN, "InvalidRequestContentException"
        return text.encode(), json.loads(text), None
    if kind == "broken":
        _, text = draw(json_text())
        cut = draw(st.integers(0, len(text)))
        body = (
            text[:cut] + draw(st.sampled_from(["}", "]", ",", "\x00", "'", "NaN", "\udcff"]))
        ).encode("utf-8", "surrogateescape")
    elif kind == "binary":
        body = draw(st.binary(max_size=200))
    else:  # a JSON string of 1.1 MB (over the async limit) or 6.3 MB (over the sync limit)
        size = draw(st.sampled_from([1_100_000, 6_300_000]))
        return b'"' + b"x" * size + b'"', "x" * size, "too large"
    if not body.strip():
        return body, {}, None
    event = _parse(body)
    return body, event, "InvalidRequestContentException" if event is UNKNOWN else None


VALID_NAMES = [
    FUNCTION,
    f"{FUNCTION}:$LATEST",
    f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION}",
    f"000000000000:function:{FUNCTION}:$LATEST",
]
BAD_SUFFIXES = ["\n", "\r\n", "\r", "\n\n", "\x00", " ", "\t", "%", "é", "€", ":", "::", "\u2028"]


@st.composite
def targets(draw: st.DrawFn) -> tuple[str, str | None]:
    """(the request target, the defect or None)."""
    kind = draw(st.sampled_from(["valid"] * 14 + ["bad", "bad", "random", "qualifier"]))
    query = ""
    defect: str | None = None
    if kind == "valid":
        name = draw(st.sampled_from(VALID_NAMES))
    elif kind == "bad":  # a valid name with one character no pattern allows, before or after it
        name, junk = draw(st.sampled_from(VALID_NAMES)), draw(st.sampled_from(BAD_SUFFIXES))
        name = draw(st.sampled_from([name + junk, name + junk, junk + name]))
        defect = "ValidationException"
    elif kind == "random":
        name, defect = draw(st.text(min_size=1, max_size=180)), "unknown"
    else:
        name = FUNCTION
        qualifier = draw(
            st.sampled_from(["$LATEST", "$LATEST\n", "1", "prod"]) | st.text(max_size=20)
        )
        query = "?Qualifier=" + urllib.parse.quote(qualifier, safe="")
        if qualifier != "$LATEST":
            defect = "unknown"  # 400 for a bad pattern, 404 for a well-formed unknown qualifier
    quoted = urllib.parse.quote(name, safe="")
    return f"/2015-03-31/functions/{quoted}/invocations{query}", defect


@st.composite
def cases(draw: st.DrawFn) -> Case:
    target, name_defect = draw(targets())
    body, event, payload_defect = draw(payloads())
    headers: list[tuple[str, bytes]] = []
    invocation_type = draw(
        mostly(st.sampled_from([None, None, "RequestResponse", "Event", "DryRun"]), header_text)
    )
    if invocation_type is not None:
        headers.append(("X-Amz-Invocation-Type", invocation_type.encode("latin-1")))
        invocation_type = invocation_type.strip(" \t")  # as HTTP parsers read a field value
        if invocation_type not in ("RequestResponse", "Event", "DryRun"):
            invocation_type = "invalid"
    log_type = draw(mostly(st.sampled_from([None, "None", "Tail"]), header_text))
    if log_type is not None:
        headers.append(("X-Amz-Log-Type", log_type.encode("latin-1")))
        log_type = log_type.strip(" \t")
    context, custom, context_defect = draw(client_contexts())
    if context is not None:
        headers.append(("X-Amz-Client-Context", context))
        if not context.strip(b" \t"):  # an empty header is no client context
            custom, context_defect = None, None
    case = Case(
        path=target,
        headers=headers,
        body=body,
        invocation_type=invocation_type or "RequestResponse",
        log_tail=log_type == "Tail",
        event=event,
        custom=custom,
    )
    # What the server checks, in its order; the model accepts the answer to any of them.
    defects = [name_defect]
    if len(body) > (ASYNC_LIMIT if case.invocation_type == "Event" else SYNC_LIMIT):
        defects.append("RequestEntityTooLargeException")
    if case.invocation_type == "invalid":
        defects.append("InvalidParameterValueException")
    if case.invocation_type in ("RequestResponse", "Event") and payload_defect != "too large":
        defects.append(payload_defect)  # DryRun does not look at the payload
    if case.invocation_type == "RequestResponse":
        defects.append(context_defect)  # the client context is for synchronous calls only
    if log_type not in (None, "None", "Tail"):
        defects.append("unknown")  # AWS refuses an unknown log type; Lambkin ignores it
    for defect in defects:
        if defect == "unknown":
            case.unknown = True
        elif defect is not None:
            case.defects.add(defect)
    return case


# -- the server, raw HTTP and the checks -----------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def raw_http(
    server: Server, method: str, target: str, headers: list[tuple[str, bytes]], body: bytes
) -> Answer:
    """One request on its own connection, headers written exactly as given."""
    host, port = urllib.parse.urlsplit(server.endpoint).netloc.split(":")
    head = f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {len(body)}\r\n"
    raw = head.encode("ascii") + b"".join(n.encode() + b": " + v + b"\r\n" for n, v in headers)
    raw += b"Connection: close\r\n\r\n" + body

    def send() -> None:
        try:
            sock.sendall(raw)
        except OSError:
            pass  # answered (413) before the whole body was read: the answer is still there

    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sender = threading.Thread(target=send)
        sender.start()
        try:
            response = http.client.HTTPResponse(sock)
            response.begin()
            answer = Answer(
                response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
            )
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # ends a send the server stopped reading
            except OSError:
                pass  # already closed by the server
            sender.join()
    return answer


def get_json(server: Server, path: str) -> Any:
    with urllib.request.urlopen(server.endpoint + path, timeout=10) as response:
        return json.loads(response.read())


def metric(server: Server, name: str) -> float:
    """The sum of a Prometheus metric's samples over their labels (0 when there are none)."""
    with urllib.request.urlopen(server.endpoint + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


def wait_until_quiet(server: Server, timeout_s: float = 15.0) -> tuple[list[str], float, float]:
    """Wait (bounded) until every instance is idle, no execution runs and no event is queued."""
    deadline = time.monotonic() + timeout_s
    while True:
        states = [i["State"] for i in server.instances(FUNCTION)]
        running = metric(server, "lambkin_concurrent_executions")
        queued = metric(server, "lambkin_async_queue_depth")
        quiet = all(state == "idle" for state in states) and running == 0 and queued == 0
        if quiet or time.monotonic() > deadline:
            return states, running, queued
        time.sleep(0.02)


class LogWatch:
    """The server log since the previous look."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = path.stat().st_size

    def new(self) -> str:
        with open(self._path, "rb") as log:
            log.seek(self._offset)
            raw = log.read()
        self._offset += len(raw)
        return raw.decode(errors="replace")


def check_answer(case: Case, answer: Answer) -> None:
    status, headers = answer.status, answer.headers
    if status >= 400:
        assert headers.get("x-amzn-errortype"), (status, answer.body[:300])
        body = answer.json()
        assert isinstance(body, dict), body
        message = body.get("message") or body.get("Message")
        assert isinstance(message, str) and message, body
    if status >= 500:
        raise AssertionError(f"a 5xx for a request no platform fault explains: {answer}")
    if case.defects:
        assert 400 <= status < 500, f"expected one of {case.defects}, got {status}"
        if not case.unknown:
            assert headers["x-amzn-errortype"] in case.defects, (case.defects, answer.body[:300])
        return
    if case.unknown:
        return
    if case.invocation_type == "DryRun":
        assert status == 204, answer
    elif case.invocation_type == "Event":
        assert (status, answer.body) == (202, b""), answer
    else:
        assert status == 200, answer
        assert headers.get("x-amz-function-error") is None, answer.body[:500]
        assert answer.json() == {"event": case.event, "custom": case.custom}
        if case.log_tail:
            assert "START RequestId:" in base64.b64decode(headers["x-amz-log-result"]).decode()


def probe(server: Server, number: int) -> None:
    """A normal invocation, which must succeed."""
    answer = raw_http(
        server,
        "POST",
        f"/2015-03-31/functions/{FUNCTION}/invocations",
        [],
        b'{"probe": %d}' % number,
    )
    assert (answer.status, answer.headers.get("x-amz-function-error")) == (200, None), answer
    assert answer.json() == {"event": {"probe": number}, "custom": None}


def check_server(server: Server, warm: set[str], number: int) -> None:
    assert get_json(server, "/healthz")["status"] == "ok"
    states, running, queued = wait_until_quiet(server)
    assert "busy" not in states, states
    assert (running, queued) == (0, 0)
    probe(server, number)  # a normal invocation still works, on the instance warm before the case
    now = {i["InstanceId"] for i in server.instances(FUNCTION)}
    assert now == warm, f"instances before the case {warm}, after {now}"


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"prop-{request.param}"))
    lam = srv.client()
    lam.create_function(
        FunctionName=FUNCTION,
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": ECHO_ZIP},
    )
    lam.put_function_event_invoke_config(FunctionName=FUNCTION, MaximumRetryAttempts=0)
    assert json.loads(lam.invoke(FunctionName=FUNCTION, Payload=b"[1]")["Payload"].read()) == {
        "event": [1],
        "custom": None,
    }
    yield srv
    assert srv.stop() == 0, srv.log()


def test_invoke_properties(
    server: Server,
    record_property: Callable[[str, object], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert len(server.instances(FUNCTION)) == 1
    log = LogWatch(server.log_path)
    statuses: Counter[int] = Counter()

    def one_case(case: Case) -> None:
        # From what is there now: an earlier failing case may have cost the warm instance, and
        # the shrinker must see each case judged on its own.
        wait_until_quiet(server)
        if not server.instances(FUNCTION):
            probe(server, 0)
        warm = {i["InstanceId"] for i in server.instances(FUNCTION)}
        log.new()
        runs = metric(server, "lambkin_invocations_total")
        answer = raw_http(server, "POST", case.path, case.headers, case.body)
        statuses[answer.status] += 1
        if answer.status == 202:  # the event runs after the answer: wait for it (bounded)
            deadline = time.monotonic() + 15
            while metric(server, "lambkin_invocations_total") <= runs:
                assert time.monotonic() < deadline, "the accepted event never ran"
                time.sleep(0.02)
        new_log = log.new()
        assert "Traceback" not in new_log and "unexpected error" not in new_log, new_log[-3000:]
        check_answer(case, answer)
        check_server(server, warm, sum(statuses.values()))

    examples = MAX_EXAMPLES[server.driver]
    run = settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )(given(cases())(one_case))
    started = time.monotonic()
    try:
        run()
    finally:
        elapsed = time.monotonic() - started
        record_property("cases", sum(statuses.values()))
        record_property("seconds", round(elapsed, 1))
        with capsys.disabled():
            print(
                f"\n[invoke properties, {server.driver}] {sum(statuses.values())} cases "
                f"({examples} examples asked) in {elapsed:.1f} s; "
                f"statuses {dict(sorted(statuses.items()))}"
            )
