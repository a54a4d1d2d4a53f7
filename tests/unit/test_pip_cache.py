"""pip_cache.wheels_once: a failed pip leaves no folder to reuse; a filled one is reused."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.pip_cache import PipFailed, wheels_once


def test_a_failed_pip_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "cache" / "key"
    with pytest.raises(PipFailed, match="pip --no-such-option failed"):
        wheels_once(target, lambda folder: ["--no-such-option"], lambda line: None)
    assert not target.exists() and list((tmp_path / "cache").iterdir()) == []


def test_a_filled_folder_is_reused_without_pip(tmp_path: Path) -> None:
    target = tmp_path / "key"
    target.mkdir()
    said: list[str] = []
    assert wheels_once(target, lambda folder: ["--no-such-option"], said.append) == target
    assert said == [f"{target} (cached)"]
