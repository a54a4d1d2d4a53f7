from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.function_config import FunctionConfig
from orchestrator.registry import FunctionExists, FunctionMissing, Registry, RevisionChanged


def config(name: str = "fn") -> FunctionConfig:
    return FunctionConfig(
        name=name,
        runtime="python3.11",
        handler="app.h",
        role="r",
        code_sha256_hex="ab",
        code_sha256="q",
        code_size=3,
    )


def test_survives_restart_and_keeps_server_id(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "db.sqlite")
    registry.create(config("a"))
    stored = registry.get("a")
    assert stored is not None
    updated = stored.updated(memory_size=512, environment={"K": "V"})
    registry.replace(updated, expected_revision=stored.revision_id)
    server_id = registry.server_id()
    registry.close()
    reopened = Registry(tmp_path / "db.sqlite")
    assert reopened.get("a") == updated
    assert reopened.server_id() == server_id
    assert reopened.names() == ["a"]


def test_conflicts_and_missing(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "db.sqlite")
    first = config()
    registry.create(first)
    with pytest.raises(FunctionExists):
        registry.create(config())
    with pytest.raises(RevisionChanged):
        registry.replace(first.updated(timeout=9), expected_revision="stale")
    assert registry.get("fn") == first
    registry.delete("fn")
    with pytest.raises(FunctionMissing):
        registry.delete("fn")


def test_uses_wal(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "db.sqlite")
    assert registry._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_render_has_what_boto3_waiters_need() -> None:
    rendered = config().render("us-east-1", "000000000000")
    assert rendered["State"] == "Active" and rendered["LastUpdateStatus"] == "Successful"
    assert rendered["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:fn"
    assert rendered["LastModified"][-5:] == "+0000"
