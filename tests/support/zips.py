"""Building function zips in memory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path


def make_zip(files: Mapping[str, str | bytes], executable: tuple[str, ...] = ()) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o755 if name in executable else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


def zip_tree(root: Path, extra: dict[str, str | bytes], executable: tuple[str, ...] = ()) -> bytes:
    """A zip of a whole directory plus extra files (e.g. a vendored client and a bootstrap)."""
    files: dict[str, str | bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            files[str(path.relative_to(root))] = path.read_bytes()
    files.update(extra)
    return make_zip(files, executable)
