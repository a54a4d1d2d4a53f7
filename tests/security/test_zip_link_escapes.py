"""Hostile zips that try to write outside the code folder through symbolic links: each is refused
as a whole, and afterwards nothing outside has changed, not even a file a link pointed at.

No Docker: the code store unpacks on the host, so this is where a write through a link would land.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.code_store import CodeError, CodeStore
from tests.support.zips import make_zip

PLANT = "planted by a hostile zip"

# (files, links), named by the trick each one tries. `outside` is the sibling of the store root.
HOSTILE: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "link-as-directory": ({"out/planted": PLANT}, {"out": "../../../outside"}),
    "absolute-link-as-directory": ({"out/planted": PLANT}, {"out": "{outside}"}),
    "write-through-link-to-a-file": ({"victim": PLANT}, {"victim": "../../../outside/victim"}),
    "write-through-absolute-link": ({"victim": PLANT}, {"victim": "{outside}/victim"}),
    "chain-of-links": ({"a/planted": PLANT}, {"a": "b", "b": "c/../../../../outside"}),
    "link-back-through-link": (
        {"x/planted": PLANT},
        {"deep/up": "..", "x": "deep/up/../../../outside"},
    ),
    "inside-link-as-directory": ({"d/planted": PLANT}, {"d": "sub"}),
    "link-under-link": ({}, {"d": "sub", "d/e": "../../../../outside/planted"}),
    "loop": ({"a/planted": PLANT}, {"a": "b", "b": "a"}),
    "parent-of-package": ({"up/unpacked/planted": PLANT}, {"up": ".."}),
}


def snapshot(root: Path) -> dict[str, tuple[str, bytes | str]]:
    """Every path under `root` with its kind and content (a link's target, never followed)."""
    found: dict[str, tuple[str, bytes | str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                found[rel] = ("dir", "")
            else:
                found[rel] = ("file", path.read_bytes())
    return found


@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile's, for write-through-link
@pytest.mark.parametrize("trick", HOSTILE)
def test_hostile_link_zip_is_refused_and_writes_nothing_anywhere(
    tmp_path: Path, trick: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "victim").write_text("untouched")
    store = CodeStore(tmp_path / "store")
    before = snapshot(tmp_path)

    files, links = HOSTILE[trick]
    links = {name: target.format(outside=outside) for name, target in links.items()}
    hostile = make_zip({"app.py": "def handler(e, c): return 1\n", **files}, links=links)
    with pytest.raises(CodeError) as refused:
        store.put(hostile)

    assert refused.value.error_code == "InvalidParameterValueException"
    assert refused.value.message.startswith("Zip entry '"), refused.value.message
    assert snapshot(tmp_path) == before
    assert (outside / "victim").read_text() == "untouched"
