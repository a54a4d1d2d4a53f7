"""The audit trail on a real server: every call that changes something, and only those, is
appended with who, what, on which resource, when and the result (refusals too), and
`lambkin audit` shows it as a table or JSON, filtered by time, principal and action."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.support.server import REPO_ROOT, Server, start_server
from tests.support.signing import ALICE, AUDITOR, CALLER, CI, ApiUser, write_credentials
from tests.support.zips import make_zip

HELLO = make_zip({"app.py": "def handler(event, context):\n    return 'hi'\n"})
ROLE = "arn:aws:iam::000000000000:role/orders"


def lambkin_audit(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", "audit", "--data-dir", str(data_dir), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "250"},
    )  # fmt: skip


def as_json(data_dir: Path, *args: str) -> list[dict[str, Any]]:
    result = lambkin_audit(data_dir, "--json", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def lam(server: Server, user: ApiUser, secret: str | None = None) -> Any:
    return server.client("lambda", user.access_key, secret or user.secret_key)


def create(server: Server, user: ApiUser, name: str) -> None:
    client = lam(server, user)
    client.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": HELLO},
    )  # fmt: skip
    client.get_waiter("function_active_v2").wait(FunctionName=name)


def test_changes_are_recorded_and_shown(tmp_path: Path) -> None:
    credentials = write_credentials(tmp_path / "credentials.toml")
    server = start_server("process", tmp_path, args=("--credentials-file", str(credentials)))
    started = time.time()
    mine, theirs = f"orders-{uuid.uuid4().hex[:6]}", f"billing-{uuid.uuid4().hex[:6]}"
    try:
        create(server, CI, mine)
        create(server, ALICE, theirs)
        lam(server, CI).update_function_configuration(FunctionName=mine, Timeout=9)
        lam(server, CALLER).invoke(FunctionName=mine, Payload=b"{}")  # reads and invokes: not
        lam(server, AUDITOR).list_functions()  # recorded
        lam(server, AUDITOR).get_function(FunctionName=mine)
        for user, secret in ((CI, None), (AUDITOR, "not-the-secret-0000000")):
            with pytest.raises(ClientError):
                lam(server, user, secret).delete_function(FunctionName=theirs)
        lam(server, CI).delete_function(FunctionName=mine)
        records = as_json(tmp_path)
    finally:
        assert server.stop() == 0, server.log()
    arn = "arn:aws:lambda:us-east-1:000000000000:function:"
    seen = [(r["principal"], r["action"], r["resource"], r["status"], r["error"]) for r in records]
    assert seen == [
        ("ci", "lambda:CreateFunction", arn + mine, 201, None),
        ("alice", "lambda:CreateFunction", arn + theirs, 201, None),
        ("ci", "lambda:UpdateFunctionConfiguration", arn + mine, 200, None),
        ("ci", "lambda:DeleteFunction", arn + theirs, 403, "AccessDeniedException"),
        ("anonymous", "lambda:DeleteFunction", arn + theirs, 403, "InvalidSignatureException"),
        ("ci", "lambda:DeleteFunction", arn + mine, 204, None),
    ]
    assert [r["access_key_id"] for r in records] == [
        CI.access_key, ALICE.access_key, CI.access_key, CI.access_key, AUDITOR.access_key,
        CI.access_key,
    ]  # fmt: skip
    assert all(started - 1 <= r["time"] <= time.time() for r in records)
    assert all(r["source"] == "127.0.0.1" for r in records)
    assert all(r["request_id"] for r in records if r["error"] is None)

    assert [r["action"] for r in as_json(tmp_path, "--principal", "alice")] == [
        "lambda:CreateFunction"
    ]
    assert len(as_json(tmp_path, "--action", "DeleteFunction")) == 3
    assert len(as_json(tmp_path, "--action", "lambda:CreateFunction", "--principal", "ci")) == 1
    assert len(as_json(tmp_path, "--since", "1h")) == 6
    assert as_json(tmp_path, "--since", "2999-01-01T00:00:00Z") == []

    table = lambkin_audit(tmp_path, "--principal", "ci")
    assert table.returncode == 0, table.stderr
    assert "principal" in table.stdout and "refused as" in table.stdout
    rows = [line for line in table.stdout.splitlines() if "lambda:" in line]
    assert len(rows) == 4
    assert "AccessDeniedException" in rows[2] and "403" in rows[2]
    bad = lambkin_audit(tmp_path, "--since", "last tuesday")
    assert bad.returncode == 2 and "expected a span such as 10m" in " ".join(bad.stderr.split())


def test_a_server_without_credentials_records_anonymous_changes(tmp_path: Path) -> None:
    server = start_server("process", tmp_path)
    name = f"open-{uuid.uuid4().hex[:6]}"
    try:
        client = server.client()
        client.create_function(
            FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
            Code={"ZipFile": HELLO},
        )  # fmt: skip
        client.get_waiter("function_active_v2").wait(FunctionName=name)
        client.invoke(FunctionName=name, Payload=b"{}")
        client.tag_resource(
            Resource=f"arn:aws:lambda:us-east-1:000000000000:function:{name}", Tags={"a": "b"}
        )
        logs = server.client("logs")
        logs.put_retention_policy(logGroupName=f"/aws/lambda/{name}", retentionInDays=1)
        client.delete_function(FunctionName=name)
        with pytest.raises(ClientError):
            client.delete_function(FunctionName=name)
    finally:
        assert server.stop() == 0, server.log()
    seen = [(r["principal"], r["action"], r["status"]) for r in as_json(tmp_path)]
    assert seen == [
        ("anonymous", "lambda:CreateFunction", 201),
        ("anonymous", "lambda:TagResource", 204),
        ("anonymous", "logs:PutRetentionPolicy", 200),
        ("anonymous", "lambda:DeleteFunction", 204),
        ("anonymous", "lambda:DeleteFunction", 404),
    ]
