"""Building function zips in memory."""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path


def make_zip(
    files: Mapping[str, str | bytes],
    executable: tuple[str, ...] = (),
    links: Mapping[str, str] | None = None,
) -> bytes:
    """A zip of `files`, plus symbolic links (name -> target) stored as `zip --symlinks` does."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix: the mode in external_attr is read
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return buffer.getvalue()


def zip_tree(root: Path, extra: dict[str, str | bytes], executable: tuple[str, ...] = ()) -> bytes:
    """A zip of a whole directory plus extra files (e.g. a vendored client and a bootstrap)."""
    files: dict[str, str | bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[str(path.relative_to(root))] = path.read_bytes()
    files.update(extra)
    return make_zip(files, executable)
