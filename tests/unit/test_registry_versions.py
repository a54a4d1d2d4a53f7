"""Published versions in the registry (real SQLite): numbered, persisted, immutable, deleted
alone or with their function, numbers never reused while the function lives; and what makes a
version new (FunctionConfig.same_snapshot) or an instance its own (pool_key)."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.function_config import FunctionConfig
from orchestrator.registry import FunctionMissing, Registry


def config(name: str = "fn", sha: str = "aa") -> FunctionConfig:
    return FunctionConfig(
        name=name, runtime="python3.11", handler="app.h", role="r", code_sha256_hex=sha,
        code_sha256=sha, code_size=1,
    )  # fmt: skip


def test_versions_are_numbered_persisted_and_never_reused(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "db")
    latest = config()
    registry.create(latest)
    one = registry.publish("fn", lambda n: latest.updated(version=n))
    registry.replace(new := latest.updated(code_sha256_hex="bb"), latest.revision_id)
    two = registry.publish("fn", lambda n: new.updated(version=n))
    assert (one.version, two.version) == ("1", "2")
    assert registry.code_in_use() == {"aa", "bb"}  # an old version's code stays
    registry.delete_version("fn", 2)
    registry.close()

    reopened = Registry(tmp_path / "db")
    assert [v.version for v in reopened.versions("fn")] == ["1"]
    assert reopened.version("fn", 1) == one and reopened.version("fn", 2) is None
    three = reopened.publish("fn", lambda n: reopened.get("fn").updated(version=n))  # type: ignore[union-attr]
    assert three.version == "3"
    with pytest.raises(FunctionMissing):
        reopened.delete_version("fn", 2)
    reopened.delete("fn")
    assert reopened.versions("fn") == [] and reopened.code_in_use() == set()
    reopened.create(config())
    assert reopened.publish("fn", lambda n: config().updated(version=n)).version == "1"
    with pytest.raises(FunctionMissing):
        reopened.publish("gone", lambda n: config("gone"))


@pytest.mark.parametrize(
    ("change", "same"),
    [
        ({}, True),
        ({"description": "new words"}, True),  # a description alone publishes nothing new
        ({"tags": {"a": "b"}}, True),
        ({"code_sha256_hex": "bb", "code_sha256": "bb"}, False),
        ({"environment": {"A": "1"}}, False),
        ({"memory_size": 256}, False),
    ],
)
def test_same_snapshot(change: dict[str, object], same: bool) -> None:
    base = config()
    assert base.updated(**change).same_snapshot(base) is same


def test_pool_keys_keep_versions_apart() -> None:
    assert config().pool_key == "fn"
    assert config().updated(version="3").pool_key == "fn:3"
