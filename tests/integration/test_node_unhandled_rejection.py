"""A Node.js handler that leaves a promise rejected with no handler: our client answers as
aws-lambda-ric does (its source, fetched from npm at test time, is the oracle): the invocation
fails with `Runtime.UnhandledPromiseRejection` (message: the reason as `Error(reason)` makes it),
the process exits 128, and the next invocation starts a new one."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.function_images import aws_lambda_ric_source
from tests.support.server import Server, start_server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

APP = """
let count = 0;
exports.handler = async (event) => {
  count += 1;
  if (event.reject) {
    Promise.reject(new Error("nobody caught this"));  // no .catch: unhandled
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return { count, pid: process.pid };
};
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("node-rejection"))
    yield srv
    assert srv.stop() == 0, srv.log()


def oracle() -> tuple[str, int]:
    """The error type and exit code aws-lambda-ric uses for an unhandled rejection."""
    source = aws_lambda_ric_source()
    assert "class UnhandledPromiseRejection extends Error" in source
    prefix = re.search(r"e\.prototype\.name = `([A-Za-z]+\.)\$\{e\.name\}`", source)
    assert prefix, "aws-lambda-ric no longer names its error classes Runtime.<class>"
    handler = re.search(
        r"errorCallbacks\.unhandledRejection = \(error\) => \{\s*"
        r"this\.client\.postInvocationError\(error, invokeId, \(\) => \{\s*"
        r"process\.exit\((\d+)\)",
        source,
    )
    assert handler, "aws-lambda-ric no longer posts an invocation error for an unhandled rejection"
    return f"{prefix.group(1)}UnhandledPromiseRejection", int(handler.group(1))


def test_unhandled_rejection_fails_the_invocation_as_aws_lambda_ric(server: Server) -> None:
    error_type, exit_code = oracle()
    assert exit_code == 128
    lam = server.client()
    name = f"rej-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime="nodejs18.x",
        Role="arn:aws:iam::000000000000:role/lambda-role",
        Handler="index.handler",
        Code={"ZipFile": make_zip({"index.js": APP})},
    )
    lam.get_waiter("function_active_v2").wait(FunctionName=name)

    def invoke(event: dict[str, bool]) -> tuple[dict[str, Any], bool]:
        answer = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        return json.loads(answer["Payload"].read()), "FunctionError" in answer

    first, failed = invoke({})
    assert not failed and first["count"] == 1
    document, failed = invoke({"reject": True})
    assert failed
    assert document["errorType"] == error_type
    # new Error(reason) with an Error reason: its message is String(reason).
    assert document["errorMessage"] == "Error: nobody caught this"
    assert document["trace"][0].startswith(f"{error_type}: Error: nobody caught this")
    after, failed = invoke({})
    assert not failed
    assert after["count"] == 1  # a new process: the failed one exited
    lam.delete_function(FunctionName=name)
