"""A folder as a Lambda deployment package: a zip whose bytes depend only on the files (names,
contents, modes), not on when they were written, so the same code gives the same CodeSha256
and a deploy can tell unchanged code from changed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path


def zip_folder(directory: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                info = zipfile.ZipInfo(str(path.relative_to(directory)))  # 1980-01-01: fixed
                info.external_attr = (path.stat().st_mode & 0o777) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def package(path: Path) -> bytes:
    """A .zip as it is, a folder zipped."""
    return path.read_bytes() if path.is_file() else zip_folder(path)
