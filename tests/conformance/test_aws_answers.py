"""Lambkin gives AWS's exact answers: every row of `aws_answers.ROWS` (a call and the answer
real AWS recorded for it) through boto3 against a real server (issue 15, part 6).

On the docker driver, as Lambkin is deployed (no row runs a function). boto3's own
parameter validation is off, as in the recordings, so the server answers every call itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conformance.aws_answers import ROWS, ZIP, Row, substitute
from tests.support.server import Server, start_server

pytestmark = pytest.mark.docker

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("aws-answers"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="module")
def placeholders(server: Server) -> dict[str, str]:
    """The functions the rows name: <fn> with version 1 and alias <alias>, and <fn2>."""
    lam = server.client()
    fn, fn2, alias = f"conf-{uuid.uuid4().hex[:8]}", f"conf2-{uuid.uuid4().hex[:8]}", "live"
    for name in (fn, fn2):
        lam.create_function(
            FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="index.handler",
            Code={"ZipFile": ZIP},
        )  # fmt: skip
    sha = lam.publish_version(FunctionName=fn)["CodeSha256"]
    lam.create_alias(FunctionName=fn, Name=alias, FunctionVersion="1")
    return {
        "<fn2>": fn2, "<fn>": fn, "<alias>": alias, "<missing>": f"gone-{uuid.uuid4().hex[:8]}",
        "<role>": ROLE, "<sha>": sha, "<region>": "us-east-1", "<account>": "000000000000",
    }  # fmt: skip


def _answer(server: Server, row: Row, values: dict[str, str]) -> dict[str, Any]:
    lam = server.client(parameter_validation=False)
    args = substitute(row.args, {**values, "<new>": f"new-{uuid.uuid4().hex[:10]}"})
    try:
        response: dict[str, Any] = getattr(lam, row.call)(**args)
    except ClientError as exc:
        return dict(exc.response)
    return response


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_aws_answer(server: Server, placeholders: dict[str, str], row: Row) -> None:
    answer = _answer(server, row, placeholders)
    status = answer["ResponseMetadata"]["HTTPStatusCode"]
    if row.code is None:
        assert "Error" not in answer, (row.source, answer)
        assert status == row.status, row.source
        keys = set(answer) - {"ResponseMetadata"}
        assert keys == set(substitute(row.keys, placeholders)), (
            row.source,
            sorted(keys ^ set(substitute(row.keys, placeholders))),
        )
        for key, nested in row.nested_keys.items():
            assert set(answer[key]) == set(nested), row.source
        return
    error = answer.get("Error", {})
    got = (status, error.get("Code"))
    assert got == (row.status, row.code), (row.source, got, error.get("Message"))
    message = error.get("Message", "")
    if row.errors is None:
        assert message == substitute(row.message, placeholders), row.source
        return
    errors = substitute(row.errors, placeholders)
    count = len(errors)
    prefix = f"{count} validation errors detected: "
    assert message.startswith(prefix), (row.source, message)
    assert set(message[len(prefix) :].split("; ")) == set(errors), row.source


def test_every_row_names_its_recorded_source() -> None:
    names = [row.name for row in ROWS]
    assert len(names) == len(set(names))
    for row in ROWS:
        assert row.source.startswith(("test_lambda_api.snapshot.json: ", "test_lambda.snapshot"))
        assert row.source.endswith("]") and "::" in row.source, row.source
        assert (row.code is None) == (row.keys is not None), row.name
