"""A function's /opt: its layers' unpacked contents merged in order, later ones winning where
their paths overlap (as Lambda extracts them), built once per ordered set of layers.

Layout under `root`: `<key>/`, where the key is a digest of the layers' code digests in order;
the docker driver mounts it read-only at /opt (a vacancy gets hard links of it), the process
driver points the runtimes' search paths into it. Files are hard links into the code store's
unpacked layers: no copy of a large layer. Each layer's symbolic links were checked to stay in
that layer when it was published; the merged tree is checked again (`package_links`), since a
link from one layer and a path of another could together lead out, and nothing is ever written
through a link while building.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .package_links import LinkRefused, check_links

# Lambda runs what a layer puts here as extensions, through an API Lambkin does not serve.
EXTENSIONS_DIR = "extensions"


class LayersRefused(Exception):
    """The layers cannot be combined; the message says why."""


@dataclass(frozen=True)
class Entry:
    """One path of a layer: a directory, a file (its source on disk) or a link (its target)."""

    kind: str  # "dir", "file" or "link"
    source: Path | None = None
    target: str | None = None


def merge(layers: Sequence[Iterable[tuple[str, Entry]]]) -> dict[str, Entry]:
    """The merged tree of `layers` (each its (relative path, entry) pairs, parents before their
    children), in order: a later layer's entry replaces an earlier one at the same path, and
    replacing a directory by a file or a link drops what was under it. Pure."""
    merged: dict[str, Entry] = {}
    for layer in layers:
        for rel, entry in layer:
            current = merged.get(rel)
            if current is not None and current.kind == "dir" and entry.kind == "dir":
                continue
            if current is not None and current.kind == "dir":
                prefix = rel + "/"
                for doomed in [p for p in merged if p.startswith(prefix)]:
                    del merged[doomed]
            merged[rel] = entry
    return merged


def check(merged: dict[str, Entry]) -> None:
    """LayersRefused when the merged tree has a link leading out of /opt, a path under a link,
    or extensions."""
    links = {rel: e.target for rel, e in merged.items() if e.kind == "link" and e.target}
    try:
        check_links(links, list(merged))
    except LinkRefused as exc:
        raise LayersRefused(f"The function's layers cannot be combined: {exc}") from None
    extensions = sorted(
        rel for rel, e in merged.items() if rel.startswith(EXTENSIONS_DIR + "/") and e.kind != "dir"
    )
    if extensions:
        raise LayersRefused(
            f"The function's layers hold Lambda extensions (/opt/{extensions[0]}), which this "
            "server does not run: remove the layer, or its extensions/ directory."
        )


def entries(root: Path) -> list[tuple[str, Entry]]:
    """One unpacked layer's paths, parents first (os.walk order), links not followed."""
    found: list[tuple[str, Entry]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in sorted(dirnames) + sorted(filenames):
            path = base / name
            rel = path.relative_to(root).as_posix()
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                found.append((rel, Entry("link", target=os.readlink(path))))
            elif stat.S_ISDIR(mode):
                found.append((rel, Entry("dir")))
            else:
                found.append((rel, Entry("file", source=path)))
        dirnames[:] = [d for d in dirnames if not (base / d).is_symlink()]
    return found


def tree_size(root: Path) -> int:
    """The bytes of every regular file under `root` (links not followed): its unzipped size."""
    total = 0
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            st = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    return total


def assembly_key(code_hexes: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(code_hexes).encode()).hexdigest()


class LayerAssembly:
    """The merged /opt directories, one per ordered set of layers, built on first use."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def path(self, code_hexes: Sequence[str]) -> Path:
        return self._root / assembly_key(code_hexes)

    def build(self, unpacked: Sequence[Path], code_hexes: Sequence[str]) -> Path:
        """The merged directory of the layers unpacked at `unpacked` (in order); raises
        LayersRefused, leaving nothing behind, when they cannot be combined."""
        final = self.path(code_hexes)
        with self._lock:
            if final.is_dir():
                return final
            merged = merge([entries(root) for root in unpacked])
            check(merged)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-opt-", dir=self._root))
            try:
                _write(tmp, merged)
                os.chmod(tmp, 0o755)
                os.rename(tmp, final)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            return final

    def keep_only(self, code_hex_sets: Iterable[Sequence[str]]) -> int:
        """Remove the merged directories no set of layers in `code_hex_sets` needs (and
        scratch left by a crash). Run while no instance uses them: at start-up."""
        wanted = {assembly_key(hexes) for hexes in code_hex_sets}
        removed = 0
        for path in self._root.iterdir():
            if path.name not in wanted:
                shutil.rmtree(path, ignore_errors=True)
                removed += 1
        return removed


def _write(root: Path, merged: dict[str, Entry]) -> None:
    """Directories, then files (hard links, copies across file systems), then links: while
    files are written there is no link to write through."""
    for rel, entry in merged.items():
        if entry.kind == "dir":
            (root / rel).mkdir(mode=0o755, parents=True, exist_ok=True)
    for rel, entry in merged.items():
        if entry.kind == "file" and entry.source is not None:
            target = root / rel
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            try:
                os.link(entry.source, target)
            except OSError:  # another file system: a copy, mode kept
                shutil.copy2(entry.source, target)
    for rel, entry in merged.items():
        if entry.kind == "link" and entry.target is not None:
            target = root / rel
            target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
            os.symlink(entry.target, target)
    for dirpath, _, _ in os.walk(root):
        os.chmod(dirpath, 0o755)
