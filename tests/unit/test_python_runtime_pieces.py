"""The pure pieces of our Python runtime client (runtime-images/python/lambkin_runtime).

The client as a whole, under AWS's emulator and next to awslambdaric, is tested in
tests/conformance/test_python_client_under_rie.py.
"""

from __future__ import annotations

import decimal
import itertools
import logging
import re
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "runtime-images" / "python"))

from lambkin_runtime import errors  # noqa: E402
from lambkin_runtime.context import FunctionMeta, LambdaContext  # noqa: E402
from lambkin_runtime.handler_loader import (  # noqa: E402
    load_handler,
    module_name,
    parse_handler,
    put_task_root_first,
)
from lambkin_runtime.logging_setup import (  # noqa: E402
    LambdaLogHandler,
    RequestLogContext,
    error_log_text,
    log_level_from_env,
)
from lambkin_runtime.marshalling import decode_event, encode_response  # noqa: E402

NBSP = "\u00a0"
_unique = itertools.count()

# --- handler names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        ("app.handler", ("app", "handler")),
        ("pkg.app.handler", ("pkg.app", "handler")),  # the last dot splits
        ("src/app.handler", ("src/app", "handler")),
        ("src/v1.2/app.handler", ("src/v1.2/app", "handler")),
        ("app.", ("app", "")),  # then "Handler '' missing on module 'app'"
    ],
)
def test_parse_handler(handler: str, expected: tuple[str, str]) -> None:
    assert parse_handler(handler) == expected


@pytest.mark.parametrize("handler", ["handler", "", "src/handler"])
def test_handler_without_a_dot_is_malformed(handler: str) -> None:
    with pytest.raises(errors.FaultError) as caught:
        parse_handler(handler)
    assert caught.value.error_type == "Runtime.MalformedHandlerName"
    assert caught.value.message == (
        f"Bad handler '{handler}': not enough values to unpack (expected 2, got 1)"
    )


def test_module_path_slashes_become_dots() -> None:
    assert module_name("src/lib/app") == "src.lib.app"
    assert module_name("pkg.app") == "pkg.app"


# --- loading handlers (in this process, from a temporary task root) --------------------------


@pytest.fixture
def task_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(sys, "path", list(sys.path))
    put_task_root_first(str(tmp_path))
    return tmp_path


def unique_module(task_root: Path, source: str) -> str:
    name = f"lambkin_unit_mod_{next(_unique)}_{time.time_ns()}"
    (task_root / f"{name}.py").write_text(source)
    return name


def load_fault(handler: str) -> errors.FaultError:
    with pytest.raises(errors.FaultError) as caught:
        load_handler(handler)
    return caught.value


def test_task_root_goes_first_on_sys_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "path", ["/a", "/task", "/b"])
    put_task_root_first("/task")
    assert sys.path == ["/task", "/a", "/b"]
    put_task_root_first(None)
    assert sys.path == ["/task", "/a", "/b"]


def test_loads_a_function(task_root: Path) -> None:
    name = unique_module(task_root, "def handler(event, context):\n    return ('ok', event)\n")
    assert load_handler(f"{name}.handler")(1, None) == ("ok", 1)


def test_loads_a_function_from_a_directory(task_root: Path) -> None:
    (task_root / "sub_dir_a").mkdir()
    (task_root / "sub_dir_a" / "inner_mod.py").write_text("def fn(e, c):\n    return 'deep'\n")
    assert load_handler("sub_dir_a/inner_mod.fn")(None, None) == "deep"


def test_missing_module(task_root: Path) -> None:
    fault = load_fault("no_such_module_here.handler")
    assert fault.error_type == "Runtime.ImportModuleError"
    assert fault.message == (
        "Unable to import module 'no_such_module_here': No module named 'no_such_module_here'"
    )
    assert fault.document() == {
        "errorMessage": fault.message,
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }


def test_missing_dependency_of_the_module_is_an_import_error(task_root: Path) -> None:
    name = unique_module(task_root, "import not_installed_dependency\n")
    fault = load_fault(f"{name}.handler")
    assert fault.error_type == "Runtime.ImportModuleError"
    assert fault.message == (
        f"Unable to import module '{name}': No module named 'not_installed_dependency'"
    )


def test_missing_function(task_root: Path) -> None:
    name = unique_module(task_root, "x = 1\n")
    fault = load_fault(f"{name}.nope")
    assert fault.error_type == "Runtime.HandlerNotFound"
    assert fault.message == f"Handler 'nope' missing on module '{name}'"


def test_syntax_error(task_root: Path) -> None:
    name = unique_module(task_root, "def handler(event, context):\n    return (\n")
    fault = load_fault(f"{name}.handler")
    assert fault.error_type == "Runtime.UserCodeSyntaxError"
    assert fault.message == (
        f"Syntax error in module '{name}': '(' was never closed ({name}.py, line 2)"
    )
    assert fault.stack_trace == [f'  File "{task_root / name}.py" Line 2\n        return (\n']


def test_built_in_module_cannot_be_the_handler_module(task_root: Path) -> None:
    fault = load_fault("sys.handler")
    assert fault.error_type == "Runtime.BuiltInModuleConflict"
    assert fault.message == "Cannot use built-in module sys as a handler module"


def test_exception_at_import_keeps_its_class_and_loses_our_frames(task_root: Path) -> None:
    name = unique_module(task_root, "def f():\n    raise KeyError('cfg')\n\nf()\n")
    with pytest.raises(KeyError) as caught:
        load_handler(f"{name}.handler")
    document = errors.error_from_exception(caught.value)
    assert (document["errorType"], document["errorMessage"]) == ("KeyError", "'cfg'")
    # In the runtime the traceback starts in our package (this test's own frame comes first
    # here, so skip it); like awslambdaric, the trace starts where our package hands over.
    tb = caught.value.__traceback__
    assert tb is not None
    trace = errors.stack_trace(tb.tb_next)
    assert re.match(r'  File ".*/importlib/__init__\.py", line \d+, in import_module\n', trace[0])
    assert "lambkin_runtime" not in "".join(trace)
    assert (
        trace[-1] == f"  File \"{task_root / name}.py\", line 2, in f\n    raise KeyError('cfg')\n"
    )


# --- error documents and error log lines -----------------------------------------------------


def test_error_document_shape() -> None:
    document = errors.make_error("m", "T", ["  File ..."], "req-1")
    assert list(document) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert document == {
        "errorMessage": "m",
        "errorType": "T",
        "requestId": "req-1",
        "stackTrace": ["  File ..."],
    }


def test_error_from_a_user_exception_without_package_frames() -> None:
    def user_code() -> None:
        raise ValueError("bad input")

    try:
        user_code()
    except ValueError as exc:
        document = errors.error_from_exception(exc, "req-2")
    assert (document["errorType"], document["errorMessage"]) == ("ValueError", "bad input")
    assert document["requestId"] == "req-2"
    assert len(document["stackTrace"]) == 2  # this test function, then user_code
    assert document["stackTrace"][1].endswith(', in user_code\n    raise ValueError("bad input")\n')
    assert "^" not in "".join(document["stackTrace"])  # no position markers, as awslambdaric


def test_error_log_text_is_one_line_with_nbsp_indents() -> None:
    error = errors.make_error(
        "boom",
        "ValueError",
        ['  File "/var/task/app.py", line 3, in handler\n    raise ValueError("boom")\n'],
    )
    assert error_log_text(error) == (
        "[ERROR] ValueError: boom\rTraceback (most recent call last):\r"
        f'{NBSP * 2}File "/var/task/app.py", line 3, in handler\r'
        f'{NBSP * 4}raise ValueError("boom")\n'
    )


def test_error_log_text_edge_cases() -> None:
    assert error_log_text(errors.make_error("", "Runtime.X", [])) == (
        "[ERROR] Runtime.X\rTraceback (most recent call last):\n"
    )
    assert error_log_text(errors.make_error("no type", "", [])) == (
        "[ERROR] no type\rTraceback (most recent call last):\n"
    )
    multi_line = error_log_text(errors.make_error("line 1\nline 2", "E", []))
    assert multi_line == "[ERROR] E: line 1\rline 2\rTraceback (most recent call last):\n"


# --- events and responses --------------------------------------------------------------------


def test_event_is_json_by_default() -> None:
    assert decode_event(b'{"a": [1, "\\u00e9"]}', None) == {"a": [1, "é"]}
    assert decode_event('"ü"'.encode(), "application/json") == "ü"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json; charset=utf-8"])
def test_event_of_another_content_type_is_passed_as_bytes(content_type: str) -> None:
    assert decode_event(b'{"a": 1}', content_type) == b'{"a": 1}'


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"", "Expecting value: line 1 column 1 (char 0)"),
        (b'{"a": }', "Expecting value: line 1 column 7 (char 6)"),
    ],
)
def test_undecodable_event(body: bytes, detail: str) -> None:
    with pytest.raises(errors.FaultError) as caught:
        decode_event(body, "application/json")
    assert caught.value.error_type == "Runtime.UnmarshalError"
    assert caught.value.message == f"Unable to unmarshal input: {detail}"


@pytest.mark.parametrize(
    ("value", "body"),
    [
        ("text", b'"text"'),
        ("é", b'"\\u00e9"'),
        (None, b"null"),
        ({"a": [1, 2.5, True]}, b'{"a": [1, 2.5, true]}'),
        ((1, 2), b"[1, 2]"),
        (float("nan"), b"NaN"),
        (decimal.Decimal("7"), b"7"),
        (decimal.Decimal("1.50"), b"1.5"),
        ({"price": decimal.Decimal("2.25")}, b'{"price": 2.25}'),
    ],
)
def test_response_is_json(value: object, body: bytes) -> None:
    assert encode_response(value) == (body, "application/json")


def test_bytes_response_is_sent_raw() -> None:
    assert encode_response(b"\x00raw") == (b"\x00raw", "application/unknown")


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ({1, 2}, "Object of type set is not JSON serializable"),
        ({"when": object()}, "Object of type object is not JSON serializable"),
    ],
)
def test_unserialisable_response(value: object, detail: str) -> None:
    with pytest.raises(errors.FaultError) as caught:
        encode_response(value)
    assert caught.value.error_type == "Runtime.MarshalError"
    assert caught.value.message == f"Unable to marshal response: {detail}"


# --- the context object ----------------------------------------------------------------------

ENVIRON = {
    "AWS_LAMBDA_FUNCTION_NAME": "fn",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/27/[$LATEST]abc",
}


def now_ms() -> int:
    return int(time.time() * 1000)


def test_remaining_time_counts_down_to_the_deadline() -> None:
    context = LambdaContext(FunctionMeta(ENVIRON), "req", now_ms() + 1000)
    first = context.get_remaining_time_in_millis()
    assert 900 < first <= 1000
    time.sleep(0.02)
    assert context.get_remaining_time_in_millis() < first


@pytest.mark.parametrize("deadline", [0, now_ms() - 5000])
def test_remaining_time_never_goes_negative(deadline: int) -> None:
    assert LambdaContext(FunctionMeta(ENVIRON), "req", deadline).get_remaining_time_in_millis() == 0


def test_context_static_fields() -> None:
    context = LambdaContext(FunctionMeta(ENVIRON), "req-9", now_ms(), "arn:aws:lambda:x")
    assert context.aws_request_id == "req-9"
    assert context.function_name == "fn"
    assert context.function_version == "$LATEST"
    assert context.memory_limit_in_mb == 256
    assert context.log_group_name == "/aws/lambda/fn"
    assert context.log_stream_name == "2026/11/27/[$LATEST]abc"
    assert context.invoked_function_arn == "arn:aws:lambda:x"
    assert context.client_context is None
    assert (context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id) == (
        None,
        None,
    )


def test_function_meta_without_environment() -> None:
    meta = FunctionMeta({})
    assert (meta.function_name, meta.memory_limit_in_mb) == (None, None)


def test_client_context_and_identity() -> None:
    context = LambdaContext(
        FunctionMeta(ENVIRON),
        "req",
        now_ms(),
        client_context_json=(
            '{"client": {"installation_id": "i-1", "app_title": "t", "app_version_name": "1.0",'
            ' "app_version_code": "10", "app_package_name": "org.x"},'
            ' "custom": {"k": "v"}, "env": {"locale": "en"}}'
        ),
        cognito_identity_json='{"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}',
    )
    client_context = context.client_context
    assert client_context is not None and client_context.client is not None
    client = client_context.client
    assert (client.installation_id, client.app_title, client.app_version_name) == (
        "i-1",
        "t",
        "1.0",
    )
    assert (client.app_version_code, client.app_package_name) == ("10", "org.x")
    assert (client_context.custom, client_context.env) == ({"k": "v"}, {"locale": "en"})
    assert context.identity.cognito_identity_id == "id-1"
    assert context.identity.cognito_identity_pool_id == "pool-1"


def test_client_context_that_is_not_json() -> None:
    with pytest.raises(errors.FaultError) as caught:
        LambdaContext(FunctionMeta(ENVIRON), "req", 0, client_context_json="{nope")
    assert caught.value.error_type == "Runtime.LambdaContextUnmarshalError"
    assert caught.value.message.startswith("Unable to parse Client Context JSON: ")


def test_context_repr_reads_like_awslambdaric() -> None:
    context = LambdaContext(FunctionMeta(ENVIRON), "req-1", 0, "arn")
    assert repr(context) == (
        "LambdaContext([aws_request_id=req-1,log_group_name=/aws/lambda/fn,"
        "log_stream_name=2026/11/27/[$LATEST]abc,function_name=fn,memory_limit_in_mb=256,"
        "function_version=$LATEST,invoked_function_arn=arn,client_context=None,"
        "identity=CognitoIdentity([cognito_identity_id=None,cognito_identity_pool_id=None]),"
        "tenant_id=None])"
    )


# --- log records -----------------------------------------------------------------------------


def test_log_records_read_like_aws(capsys: pytest.CaptureFixture[str]) -> None:
    request = RequestLogContext()
    logger = logging.getLogger(f"lambkin.unit.{time.time_ns()}")
    logger.propagate = False
    logger.addHandler(LambdaLogHandler(request))
    logger.warning("before any invocation")
    request.request_id = "req-42"
    logger.error("two\nlines")
    lines = capsys.readouterr().out.split("\n")
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(rf"\[WARNING\]\t{stamp}\t\tbefore any invocation", lines[0])
    assert re.fullmatch(rf"\[ERROR\]\t{stamp}\treq-42\ttwo\rlines", lines[1])
    assert lines[2:] == [""]
    logged_at = time.strptime(lines[1].split("\t")[1][:19], "%Y-%m-%dT%H:%M:%S")
    assert abs(time.mktime(logged_at) - time.mktime(time.gmtime())) < 5  # UTC


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("INFO", "INFO"),
        ("debug", "DEBUG"),
        ("TRACE", "DEBUG"),
        ("", None),
        (None, None),
        ("x", None),
    ],
)
def test_log_level_from_env(value: str | None, level: str | None) -> None:
    assert log_level_from_env(value) == level
