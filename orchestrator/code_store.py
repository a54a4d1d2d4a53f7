"""Function code zips, stored content-addressed by SHA-256 and unpacked once per code version.

Layout under `root`: `zips/<hex>.zip` (the source of truth), `unpacked/<hex>/` (mounted read-only
as /var/task), and `.tmp-*` scratch entries that are renamed into place only when complete, so
a reader never sees a half-written zip or a half-unpacked directory. Symbolic links that stay
inside the package are kept (see package_links.py).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import lzma
import os
import posixpath
import re
import shutil
import stat
import tempfile
import threading
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

from .package_links import MAX_TARGET_BYTES, LinkRefused, check_links

log = logging.getLogger(__name__)

ErrorCode = Literal["InvalidParameterValueException", "RequestEntityTooLargeException"]
INVALID: ErrorCode = "InvalidParameterValueException"
TOO_LARGE: ErrorCode = "RequestEntityTooLargeException"
UNREADABLE = "Could not unzip uploaded file. Please check your file, then try to upload again."

_CHUNK = 64 * 1024
_HEX = re.compile(r"[0-9a-f]{64}")
_DRIVE = re.compile(r"[A-Za-z]:")
_STALE_TMP_SECONDS = 3600  # older scratch entries are leftovers of a crash, not work in flight


class CodeError(Exception):
    """A rejected upload; `error_code` and `message` are what the client sees."""

    def __init__(self, error_code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


class _OverBudget(Exception):
    """More bytes came out of the zip than the unzipped-size budget allows."""


@dataclass(frozen=True)
class StoredCode:
    sha256_hex: str  # hex digest of the zip bytes
    code_sha256: str  # base64 of the raw digest (AWS's CodeSha256)
    size: int  # zip size in bytes (AWS's CodeSize)
    path: Path  # unpacked directory, used as /var/task


@dataclass(frozen=True)
class _Entry:
    info: zipfile.ZipInfo
    rel: str  # normalised POSIX path inside the package
    is_dir: bool
    mode: int
    link: str | None = None  # a symbolic link's target


class CodeStore:
    def __init__(
        self,
        root: Path,
        *,
        max_zip_bytes: int = 50 * 1024 * 1024,
        max_unzipped_bytes: int = 262_144_000,
        max_files: int = 20_000,
    ) -> None:
        self._root = root
        self._zips = root / "zips"
        self._unpacked = root / "unpacked"
        self._max_zip = max_zip_bytes
        self._max_unzipped = max_unzipped_bytes
        self._max_files = max_files
        # One lock per sha (kept: a lock is tiny) so concurrent puts of the same zip extract it
        # once; the atomic rename is what keeps other processes sharing the root safe.
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self._zips.mkdir(parents=True, exist_ok=True)
        self._unpacked.mkdir(parents=True, exist_ok=True)
        self._sweep_stale_tmp()

    def put(self, zip_bytes: bytes) -> StoredCode:
        if len(zip_bytes) > self._max_zip:
            message = f"Zipped file size must be smaller than {self._max_zip} bytes"
            raise CodeError(TOO_LARGE, message)
        hex_ = hashlib.sha256(zip_bytes).hexdigest()
        with self._lock(hex_):
            zip_path, final = self._zip_path(hex_), self._unpacked / hex_
            if not final.is_dir():  # otherwise validated and unpacked before: no extraction
                tmp = self._extract(zip_bytes)  # validates; on CodeError leaves nothing behind
                try:
                    if not zip_path.is_file():  # first, so no unpacked dir ever lacks its zip
                        self._write_zip(zip_path, zip_bytes)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
                self._publish(tmp, final)
                log.info("code unpacked", extra={"code_sha256": hex_, "code_size": len(zip_bytes)})
            elif not zip_path.is_file():
                self._write_zip(zip_path, zip_bytes)
            return self._stored(hex_)

    def get(self, sha256_hex: str) -> StoredCode:
        if not _HEX.fullmatch(sha256_hex) or not self._zip_path(sha256_hex).is_file():
            raise KeyError(sha256_hex)
        with self._lock(sha256_hex):
            final = self._unpacked / sha256_hex
            if not final.is_dir():  # e.g. the unpacked cache was wiped; the zip is the truth
                data = self._zip_path(sha256_hex).read_bytes()
                if hashlib.sha256(data).hexdigest() != sha256_hex:
                    raise ValueError(f"stored zip {sha256_hex} does not match its digest")
                self._publish(self._extract(data), final)
            return self._stored(sha256_hex)

    def remove(self, sha256_hex: str) -> None:
        if not _HEX.fullmatch(sha256_hex):
            raise ValueError(f"not a SHA-256 hex digest: {sha256_hex!r}")  # guards the rmtree
        with self._lock(sha256_hex):
            self._zip_path(sha256_hex).unlink(missing_ok=True)
            final = self._unpacked / sha256_hex
            if final.is_dir():
                # Rename first so no reader ever sees a half-deleted directory.
                doomed = Path(tempfile.mkdtemp(prefix=".tmp-rm-", dir=self._root))
                os.rename(final, doomed / "x")
                shutil.rmtree(doomed)
        log.info("code removed", extra={"code_sha256": sha256_hex})

    def known(self) -> set[str]:
        return {p.stem for p in self._zips.glob("*.zip") if _HEX.fullmatch(p.stem)}

    # -- internals -------------------------------------------------------------------------

    def _zip_path(self, hex_: str) -> Path:
        return self._zips / f"{hex_}.zip"

    def _stored(self, hex_: str) -> StoredCode:
        return StoredCode(
            sha256_hex=hex_,
            code_sha256=base64.b64encode(bytes.fromhex(hex_)).decode("ascii"),
            size=self._zip_path(hex_).stat().st_size,
            path=self._unpacked / hex_,
        )

    def _lock(self, hex_: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(hex_, threading.Lock())

    def _plan(self, zf: zipfile.ZipFile) -> list[_Entry]:
        """Validate every entry before anything is written: one bad entry rejects the zip."""
        infos = zf.infolist()
        if len(infos) > self._max_files:
            raise CodeError(
                INVALID, f"Zip contains {len(infos)} entries; at most {self._max_files} are allowed"
            )
        if sum(i.file_size for i in infos) > self._max_unzipped:
            raise CodeError(INVALID, self._too_big_message())
        plan = []
        for info in infos:
            mode = info.external_attr >> 16
            name = info.filename.replace("\\", "/")  # Windows tools write backslash separators
            if name.startswith("/") or _DRIVE.match(name):
                raise CodeError(INVALID, f"Zip entry {info.filename!r} has an absolute path")
            is_link = stat.S_ISLNK(mode)
            rel = posixpath.normpath(name)
            is_dir = name.endswith("/") and not is_link
            if rel == ".." or rel.startswith("../") or (rel == "." and not is_dir):
                raise CodeError(INVALID, f"Zip entry {info.filename!r} escapes the package root")
            if rel != ".":  # "./" is the root itself
                # Only the executable bit survives: no setuid/sticky, always readable by others.
                entry_mode = 0o755 if is_dir or mode & 0o111 else 0o644
                link = _link_target(zf, info) if is_link else None
                plan.append(_Entry(info, rel, is_dir, entry_mode, link))
        try:
            check_links({e.rel: e.link for e in plan if e.link is not None}, [e.rel for e in plan])
        except LinkRefused as exc:
            raise CodeError(INVALID, str(exc)) from None
        return plan

    def _extract(self, zip_bytes: bytes) -> Path:
        """Validate and unpack into a fresh scratch dir; return it. On failure, leave nothing."""
        try:
            zf = zipfile.ZipFile(io.BytesIO(zip_bytes))
        except (
            zipfile.BadZipFile,
            zipfile.LargeZipFile,
            NotImplementedError,
            ValueError,
            EOFError,
        ) as exc:  # NotImplementedError: "zip file version" too new
            raise CodeError(INVALID, UNREADABLE) from exc
        with zf:
            plan = self._plan(zf)
            tmp = Path(tempfile.mkdtemp(prefix=".tmp-unpack-", dir=self._root))
            try:
                budget = self._max_unzipped
                # Links last: while files are written there are none to write through.
                for entry in sorted(plan, key=lambda e: e.link is not None):
                    target = tmp / entry.rel
                    if entry.link is not None:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        os.symlink(entry.link, target)
                        continue
                    if entry.is_dir:
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(entry.info) as src, open(target, "wb") as dst:
                        budget -= _copy_capped(src, dst, budget)
                    os.chmod(target, entry.mode)
                for dirpath, _, _ in os.walk(tmp):  # mkdir honours umask; be explicit
                    os.chmod(dirpath, 0o755)
            except _OverBudget:
                shutil.rmtree(tmp, ignore_errors=True)
                raise CodeError(INVALID, self._too_big_message()) from None
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                NotImplementedError,
                RuntimeError,
                ValueError,
                FileExistsError,
                NotADirectoryError,
                IsADirectoryError,
            ) as exc:
                # Bad CRC, corrupt stream, encrypted or unsupported method, or entries that
                # collide (a file and a directory of the same name).
                shutil.rmtree(tmp, ignore_errors=True)
                raise CodeError(INVALID, UNREADABLE) from exc
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            return tmp

    def _publish(self, tmp: Path, final: Path) -> None:
        try:
            os.rename(tmp, final)
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not final.is_dir():
                raise
            # Another process published the same sha first; its content is identical. (An
            # empty package would instead replace its empty dir, which is just as harmless.)

    def _write_zip(self, zip_path: Path, data: bytes) -> None:
        fd, tmp_name = tempfile.mkstemp(prefix=".tmp-zip-", dir=self._root)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())  # the zip is the source of truth across restarts
            os.chmod(tmp_name, 0o644)
            os.replace(tmp_name, zip_path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def _sweep_stale_tmp(self) -> None:
        cutoff = time.time() - _STALE_TMP_SECONDS
        for p in self._root.glob(".tmp-*"):
            try:
                if p.lstat().st_mtime >= cutoff:
                    continue
            except FileNotFoundError:  # its owner just finished with it
                continue
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)

    def _too_big_message(self) -> str:
        return f"Unzipped size must be smaller than {self._max_unzipped} bytes"


def _link_target(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """A link entry's content, its target; read here, before anything is written."""
    try:
        with zf.open(info) as src:
            raw = src.read(MAX_TARGET_BYTES + 1)
    except (
        zipfile.BadZipFile,
        zlib.error,
        lzma.LZMAError,
        OSError,
        EOFError,
        NotImplementedError,  # an unknown compression method
        RuntimeError,  # encrypted
        ValueError,
    ) as exc:
        raise CodeError(INVALID, UNREADABLE) from exc
    if len(raw) > MAX_TARGET_BYTES:
        message = f"Zip entry {info.filename!r} is a symbolic link with a target over 4095 bytes"
        raise CodeError(INVALID, message)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        message = f"Zip entry {info.filename!r} is a symbolic link whose target is not UTF-8"
        raise CodeError(INVALID, message) from None


def _copy_capped(src: IO[bytes], dst: IO[bytes], budget: int) -> int:
    """Copy in chunks and return the bytes written; raise _OverBudget *before* writing the chunk
    that would pass `budget`. Declared sizes can lie, so this counts what actually comes out."""
    written = 0
    while True:
        try:
            chunk = src.read(_CHUNK)
        except (OSError, lzma.LZMAError) as exc:  # bz2 says OSError; the source is in memory
            raise zipfile.BadZipFile(f"corrupt compressed stream: {exc}") from exc
        if not chunk:
            break
        written += len(chunk)
        if written > budget:
            raise _OverBudget
        dst.write(chunk)
    return written
