"""Building the agent binary (orchestrator/agent_binary.py): cached by its sources' hash, built
with the host's go, or, without one, in the builder image from Debian's Go (1.19)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from orchestrator import agent_binary

sys.path.insert(0, str(Path(__file__).resolve().parent / "agent_runtimes"))
from harness import AgentProcess, runtime_cmd


@pytest.fixture(autouse=True)
def shared_go_build_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test builds into its own root, but compiled packages may come from the real cache:
    what is tested is our build step, not how fast Go compiles from nothing."""
    monkeypatch.setenv("GOCACHE", str(agent_binary.cache_root() / "gocache"))


def copy_sources(to: Path) -> Path:
    shutil.copytree(agent_binary.AGENT_SOURCE_DIR, to)
    return to


def test_the_hash_covers_the_sources_but_not_the_tests(tmp_path: Path) -> None:
    src = copy_sources(tmp_path / "agent")
    before = agent_binary.source_hash(src)
    (src / "state_test.go").write_text((src / "state_test.go").read_text() + "\n// x\n")
    (src / "notes.txt").write_text("not a source")
    assert agent_binary.source_hash(src) == before
    (src / "main.go").write_text((src / "main.go").read_text() + "\n// x\n")
    assert agent_binary.source_hash(src) != before


def test_built_once_per_source_version_then_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(agent_binary.OVERRIDE_ENV, raising=False)
    lines: list[str] = []
    binary = agent_binary.agent_binary(lines.append, root=tmp_path)
    assert binary == tmp_path / agent_binary.source_hash()[:16] / "lambkin-agent"
    assert any(line.startswith("building the agent") for line in lines)
    # No partial left; the digest recorded beside it.
    assert sorted(p.name for p in binary.parent.iterdir()) == [
        "lambkin-agent",
        "lambkin-agent.sha256",
    ]
    again: list[str] = []
    assert agent_binary.agent_binary(again.append, root=tmp_path) == binary
    assert again == []  # cached: nothing built


def test_a_cached_binary_that_changed_or_others_may_write_is_built_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(agent_binary.OVERRIDE_ENV, raising=False)
    binary = agent_binary.agent_binary(root=tmp_path)
    good = binary.read_bytes()

    def rebuilt_because() -> str:
        lines: list[str] = []
        assert agent_binary.agent_binary(lines.append, root=tmp_path) == binary
        assert binary.read_bytes() == good, "the rebuilt binary is the real one"
        return next(line for line in lines if line.startswith("not using the cached agent"))

    binary.write_bytes(good[: len(good) // 2])  # truncated (a full disk, a killed copy)
    assert "does not match the digest" in rebuilt_because()
    (binary.parent / "lambkin-agent.sha256").unlink()
    assert "no digest was recorded" in rebuilt_because()
    binary.parent.chmod(0o777)
    assert "writable by other users" in rebuilt_because()
    assert agent_binary.untrusted(binary) is None


def test_an_explicit_binary_wins_and_must_be_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(agent_binary.OVERRIDE_ENV, str(tmp_path / "missing"))
    with pytest.raises(agent_binary.AgentBuildError, match="not an executable"):
        agent_binary.agent_binary(root=tmp_path)


@pytest.mark.docker
def test_without_go_it_builds_in_the_builder_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Debian 12's golang-go (1.19) in lambkin/base-go:bookworm: a static binary that works."""
    monkeypatch.delenv(agent_binary.OVERRIDE_ENV, raising=False)
    monkeypatch.setattr(agent_binary, "host_go", lambda: None)  # as on a host without go
    lines: list[str] = []
    binary = agent_binary.agent_binary(lines.append, root=tmp_path)
    assert any(agent_binary.BUILDER_IMAGE in line for line in lines)
    data = binary.read_bytes()
    assert data[:4] == b"\x7fELF" and b"/lib64/ld-linux" not in data  # static: no interpreter
    agent = AgentProcess(runtime_cmd("scripted.py"), cwd=tmp_path, agent_argv=[str(binary)])
    try:
        assert agent.invoke({"built": "in docker"}).json() == {"built": "in docker"}
    finally:
        assert agent.close() == 0
