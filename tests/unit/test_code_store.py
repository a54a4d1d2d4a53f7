"""CodeStore: content-addressed code zips, validated and unpacked once, safely.

Every zip here is built in memory with `zipfile`; every store writes to a real temp dir.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import shutil
import stat
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Self

import pytest

from orchestrator.code_store import (
    UNREADABLE,
    CodeError,
    CodeStore,
    StoredCode,
    _copy_capped,
    _OverBudget,
)

Entry = tuple[str | zipfile.ZipInfo, bytes]


def make_zip(entries: list[Entry], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def info(name: str, mode: int) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name)
    zi.create_system = 3  # Unix, so external_attr carries a mode
    zi.external_attr = mode << 16
    return zi


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def zeros_zip(actual: int, lie_about_size: int | None = None) -> bytes:
    """One entry of `actual` zero bytes, streamed through DEFLATE so memory stays small. With
    `lie_about_size`, the central directory (what readers trust) declares that size instead."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        with zf.open("zeros.bin", "w") as f:
            chunk = bytes(1 << 20)
            for _ in range(actual >> 20):
                f.write(chunk)
        if lie_about_size is not None:
            zf.infolist()[0].file_size = lie_about_size
    return buf.getvalue()


class DiskWatch:
    """Samples, from a thread, the bytes held in files under `root` while a block runs."""

    def __init__(self, root: Path) -> None:
        self.root, self.peak = root, 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch)

    def _watch(self) -> None:
        while not self._done.is_set():
            try:
                used = sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())
            except OSError:  # a file vanished mid-walk: the store is cleaning up
                continue
            self.peak = max(self.peak, used)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zeros_zip(300 * 1024 * 1024)  # 300 MB unzipped, ~300 KB zipped


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> CodeStore:
    return CodeStore(root)


EMPTY_STORE = ["unpacked", "zips"]


def reject(store: CodeStore, data: bytes) -> CodeError:
    with pytest.raises(CodeError) as exc:
        store.put(data)
    return exc.value


# -- the happy path -----------------------------------------------------------------------


def test_put_stores_zip_and_unpacks_it(store: CodeStore, root: Path) -> None:
    data = make_zip([("handler.py", b"def h(e, c): return 1\n"), ("pkg/mod.py", b"X = 1\n")])
    code = store.put(data)

    digest = hashlib.sha256(data)
    assert code == StoredCode(
        sha256_hex=digest.hexdigest(),
        code_sha256=base64.b64encode(digest.digest()).decode(),
        size=len(data),
        path=root / "unpacked" / digest.hexdigest(),
    )
    assert (root / "zips" / f"{code.sha256_hex}.zip").read_bytes() == data
    assert (code.path / "handler.py").read_bytes() == b"def h(e, c): return 1\n"
    assert (code.path / "pkg" / "mod.py").read_bytes() == b"X = 1\n"
    assert store.known() == {code.sha256_hex}
    assert not list(root.glob(".tmp-*"))


def test_empty_zip_is_accepted_as_empty_package(store: CodeStore) -> None:
    code = store.put(make_zip([]))
    assert code.path.is_dir() and list(code.path.iterdir()) == []


def test_paths_that_normalise_inside_the_root_are_accepted(store: CodeStore) -> None:
    code = store.put(
        make_zip([("a/../b.txt", b"b"), ("./c.txt", b"c"), ("./", b""), ("win\\style.py", b"w")])
    )
    assert tree(code.path) == ["b.txt", "c.txt", "win", "win/style.py"]


# -- modes --------------------------------------------------------------------------------


def test_exec_bit_is_preserved_and_other_mode_bits_are_normalised(store: CodeStore) -> None:
    old_umask = os.umask(0o077)  # a strict umask must not leak into the package
    try:
        code = store.put(
            make_zip(
                [
                    (info("bootstrap", stat.S_IFREG | 0o755), b"#!/bin/sh\n"),
                    (info("suid", stat.S_IFREG | 0o4750), b"x"),
                    (info("private.txt", stat.S_IFREG | 0o600), b"x"),
                    ("no_unix_mode.txt", b"x"),  # e.g. written on Windows: no mode at all
                    (info("explicit/", stat.S_IFDIR | 0o700), b""),
                    ("implicit/deep/file.py", b"x"),
                ]
            )
        )
    finally:
        os.umask(old_umask)

    def mode(rel: str) -> int:
        return stat.S_IMODE((code.path / rel).stat().st_mode)

    assert mode("bootstrap") == 0o755
    assert mode("suid") == 0o755  # executable kept, setuid dropped
    assert mode("private.txt") == 0o644
    assert mode("no_unix_mode.txt") == 0o644
    for d in (".", "explicit", "implicit", "implicit/deep"):
        assert mode(d) == 0o755
    assert mode("implicit/deep/file.py") == 0o644


# -- unreadable input ---------------------------------------------------------------------


def _corrupt_crc() -> bytes:
    data = make_zip([("f.txt", b"hello world")], compression=zipfile.ZIP_STORED)
    return data.replace(b"hello world", b"hello worle")


def _unsupported_method() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("f.txt", b"x")
        zf.infolist()[0].compress_type = 99  # AES/unknown: readers refuse it
    return buf.getvalue()


def _corrupt_stream(method: int) -> bytes:
    data = make_zip([("f.txt", b"hello world" * 100)], compression=method)
    start = data.index(b"f.txt") + len(b"f.txt")  # compressed data follows the local header
    return data[:start] + bytes(8) + data[start + 8 :]  # wreck the stream's own header


def _needs_newer_unzip() -> bytes:
    zi = zipfile.ZipInfo("f.txt")
    zi.extract_version = 99  # beyond any version readers support
    return make_zip([(zi, b"x")])


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty-bytes"),
        pytest.param(b"not a zip at all", id="garbage"),
        pytest.param(make_zip([("f.txt", b"x" * 1000)])[:-30], id="truncated"),
        pytest.param(_corrupt_crc(), id="bad-crc"),
        pytest.param(_unsupported_method(), id="unsupported-method"),
        pytest.param(_needs_newer_unzip(), id="needs-newer-version"),
        pytest.param(_corrupt_stream(zipfile.ZIP_DEFLATED), id="corrupt-deflate"),
        pytest.param(_corrupt_stream(zipfile.ZIP_BZIP2), id="corrupt-bzip2"),
        pytest.param(_corrupt_stream(zipfile.ZIP_LZMA), id="corrupt-lzma"),
        pytest.param(make_zip([("a", b"file"), ("a/b", b"under a file")]), id="file-dir-clash"),
    ],
)
def test_unreadable_zip_is_rejected_and_leaves_nothing(
    store: CodeStore, root: Path, data: bytes
) -> None:
    err = reject(store, data)
    assert (err.error_code, err.message) == ("InvalidParameterValueException", UNREADABLE)
    assert UNREADABLE == (
        "Could not unzip uploaded file. Please check your file, then try to upload again."
    )
    assert tree(root) == EMPTY_STORE


# -- limits -------------------------------------------------------------------------------


def test_zip_over_max_zip_bytes_is_too_large(root: Path) -> None:
    store = CodeStore(root, max_zip_bytes=1000)
    data = make_zip([("f.bin", os.urandom(2000))], compression=zipfile.ZIP_STORED)
    err = reject(store, data)
    assert err.error_code == "RequestEntityTooLargeException"
    assert "1000" in err.message
    assert tree(root) == EMPTY_STORE


def test_declared_unzipped_size_over_limit_is_rejected(root: Path) -> None:
    store = CodeStore(root, max_unzipped_bytes=1000)
    store.put(make_zip([("a", b"x" * 500), ("b", b"x" * 500)]))  # exactly at the limit: fine
    store.remove(next(iter(store.known())))
    err = reject(store, make_zip([("a", b"x" * 500), ("b", b"x" * 501)]))
    assert (err.error_code, err.message) == (
        "InvalidParameterValueException",
        "Unzipped size must be smaller than 1000 bytes",
    )
    assert tree(root) == EMPTY_STORE


def test_declared_sizes_are_checked_before_extracting(store: CodeStore, root: Path) -> None:
    # Claims 300 MB, holds 1 MB: rejected on the header alone, nothing is extracted.
    err = reject(store, zeros_zip(1024 * 1024, lie_about_size=300 * 1024 * 1024))
    assert err.message == "Unzipped size must be smaller than 262144000 bytes"
    assert tree(root) == EMPTY_STORE


def test_zip_bomb_is_rejected_without_touching_disk(
    store: CodeStore, root: Path, bomb: bytes
) -> None:
    assert len(bomb) < 1024 * 1024
    with DiskWatch(root) as disk:
        err = reject(store, bomb)
    assert (err.error_code, err.message) == (
        "InvalidParameterValueException",
        "Unzipped size must be smaller than 262144000 bytes",
    )
    assert disk.peak == 0
    assert tree(root) == EMPTY_STORE


def test_header_understating_size_is_rejected_and_cleaned_up(store: CodeStore, root: Path) -> None:
    # Declares 1 KB, holds 300 MB: the reader stops at the declared size and the CRC fails.
    liar = zeros_zip(300 * 1024 * 1024, lie_about_size=1024)
    err = reject(store, liar)
    assert (err.error_code, err.message) == ("InvalidParameterValueException", UNREADABLE)
    assert tree(root) == EMPTY_STORE


def test_header_lie_within_limit_never_writes_past_the_limit(root: Path) -> None:
    limit = 1024 * 1024
    store = CodeStore(root, max_unzipped_bytes=limit)
    liar = zeros_zip(64 * 1024 * 1024, lie_about_size=limit - 1)
    with DiskWatch(root) as disk, pytest.raises(CodeError):
        store.put(liar)
    assert disk.peak <= limit
    assert tree(root) == EMPTY_STORE


def test_copy_counts_bytes_actually_written_and_stops_before_the_limit(tmp_path: Path) -> None:
    # The streaming guard, fed a source that yields more than any header declared.
    budget = 1_000_000
    with open(tmp_path / "ok", "wb") as dst:
        assert _copy_capped(io.BytesIO(bytes(budget)), dst, budget) == budget
    with open(tmp_path / "over", "wb") as dst, pytest.raises(_OverBudget):
        _copy_capped(io.BytesIO(bytes(10 * budget)), dst, budget)
    assert (tmp_path / "over").stat().st_size <= budget


def test_too_many_entries_is_rejected(root: Path) -> None:
    store = CodeStore(root, max_files=3)
    store.put(make_zip([(f"f{i}", b"") for i in range(3)]))
    err = reject(store, make_zip([(f"g{i}", b"") for i in range(4)]))
    assert err.error_code == "InvalidParameterValueException"
    assert "4 entries" in err.message and "at most 3" in err.message


# -- unsafe entries -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "../evil",
        "a/../../evil",
        "..",
        "../",
        "/abs",
        "/etc/passwd",
        "//server/share/x",
        "C:/evil",
        "C:evil",
        "c:\\evil",
        "..\\evil",
        "a\\..\\..\\evil",
        "\\abs",
        "a/..",
    ],
)
def test_entry_escaping_the_root_rejects_the_whole_zip(
    tmp_path: Path, root: Path, store: CodeStore, name: str
) -> None:
    err = reject(store, make_zip([("ok.py", b"fine"), (name, b"evil"), ("later.py", b"x")]))
    assert err.error_code == "InvalidParameterValueException"
    assert repr(name) in err.message
    assert tree(root) == EMPTY_STORE  # not even the valid entries
    assert tree(tmp_path) == ["store"] + [f"store/{d}" for d in EMPTY_STORE]


# -- symbolic links: kept when they stay inside the package, refused otherwise -------------


def link(name: str, target: str | bytes) -> Entry:
    return info(name, stat.S_IFLNK | 0o777), target.encode() if isinstance(target, str) else target


NPM = [
    ("node_modules/semver/bin/semver.js", b"cli"),
    link("node_modules/.bin/semver", "../semver/bin/semver.js"),
]
SO = [("lib/libfoo.so.1.2", b"ELF"), link("lib/libfoo.so.1", "libfoo.so.1.2")]

KEPT: list[tuple[str, list[Entry], dict[str, str]]] = [
    ("npm-bin", NPM, {"node_modules/.bin/semver": "../semver/bin/semver.js"}),
    ("so-chain", [*SO, link("lib/libfoo.so", "libfoo.so.1")], {"lib/libfoo.so": "libfoo.so.1"}),
    (
        "link-before-target",
        [link("a.txt", "sub/b.txt"), ("sub/b.txt", b"b")],
        {"a.txt": "sub/b.txt"},
    ),
    ("to-a-directory", [("pkg/m.py", b"X"), link("alias", "pkg")], {"alias": "pkg"}),
    ("to-the-root", [link("sub/top", ".."), ("sub/f", b"")], {"sub/top": ".."}),
    ("dotted-target", [("a", b"a"), link("d/e/x", "./../.././a")], {"d/e/x": "./../.././a"}),
    ("dangling-inside", [link("later", "not/yet/there")], {"later": "not/yet/there"}),
    # Lexically `deep/up/../..` would leave; through the link `deep/up -> ..` it is `.`.
    ("through-link-back-in", [link("deep/up", ".."), link("x", "deep/up")], {"x": "deep/up"}),
]

REFUSED: list[tuple[str, list[Entry], str]] = [
    ("absolute", [link("lib/libfoo.so", "/etc/passwd")], "to the absolute path '/etc/passwd'"),
    ("parent", [link("up", "..")], "escapes the package root"),
    ("deep-parent", [link("a/b/c", "../../../x")], "escapes the package root"),
    ("into-a-sibling-dir", [link("x", "../unpacked/other")], "escapes the package root"),
    # Lexically `deep/up/../..` is `.`; physically `deep/up` is the root and `..` above it.
    ("through-link-out", [link("deep/up", ".."), link("x", "deep/up/../..")], "'x'"),
    ("link-to-escaping-link", [link("a", "b"), link("b", "c/../..")], "escapes the package"),
    ("chain-out", [link("a", "b"), link("b", "c"), link("c", "../etc")], "escapes the package"),
    ("via-absolute-link", [link("a", "b/x"), link("b", "/etc")], "absolute path '/etc'"),
    ("loop", [link("a", "b"), link("b", "a")], "loop of links"),
    ("self", [link("a", "a")], "loop of links"),
    ("empty-target", [link("a", "")], "empty or invalid target"),
    ("nul-in-target", [link("a", "x\0y")], "empty or invalid target"),
    ("not-utf8", [link("a", b"\xff")], "not UTF-8"),
    ("over-path-max", [link("a", "x" * 4096)], "over 4095 bytes"),
    ("file-under-link", [link("lib", "sub"), ("lib/evil.so", b"x")], "under the symbolic link"),
    ("file-under-escaping-link", [link("out", ".."), ("out/evil", b"x")], "'out/evil'"),
    ("link-under-link", [link("d", "sub"), link("d/x", "y")], "under the symbolic link 'd'"),
    ("dir-entry-under-link", [link("d", "sub"), ("d/e/", b"")], "under the symbolic link"),
    ("file-then-link", [("a", b"file"), link("a", "b")], "another entry of the same name"),
    ("link-then-file", [link("a", "b"), ("a", b"written through?")], "another entry"),
    ("link-and-dir", [("a/", b""), link("a", "b")], "another entry of the same name"),
]


@pytest.mark.parametrize(("entries", "links"), [pytest.param(e, k, id=i) for i, e, k in KEPT])
def test_links_inside_the_package_are_kept(
    store: CodeStore, entries: list[Entry], links: dict[str, str]
) -> None:
    code = store.put(make_zip([("ok.py", b"fine"), *entries]))
    for path, target in links.items():
        assert (code.path / path).is_symlink(), tree(code.path)
        assert os.readlink(code.path / path) == target
        resolved = (code.path / path).resolve()
        assert resolved.is_relative_to(code.path), resolved


def test_kept_links_lead_to_their_files(store: CodeStore) -> None:
    code = store.put(make_zip([*NPM, *SO, link("lib/libfoo.so", "libfoo.so.1")]))
    assert (code.path / "node_modules/.bin/semver").read_bytes() == b"cli"
    assert (code.path / "lib/libfoo.so").read_bytes() == b"ELF"
    assert (code.path / "lib/libfoo.so").resolve() == code.path / "lib/libfoo.so.1.2"
    assert stat.S_IMODE((code.path / "lib").stat().st_mode) == 0o755


@pytest.mark.parametrize(("entries", "message"), [pytest.param(e, m, id=i) for i, e, m in REFUSED])
@pytest.mark.filterwarnings("ignore:Duplicate name")  # zipfile's, for the same-name cases
def test_links_leaving_the_package_reject_the_whole_zip(
    tmp_path: Path, root: Path, store: CodeStore, entries: list[Entry], message: str
) -> None:
    err = reject(store, make_zip([("ok.py", b"fine"), *entries, ("later.py", b"x")]))
    assert err.error_code == "InvalidParameterValueException"
    assert message in err.message, err.message
    assert err.message.startswith("Zip entry '"), err.message
    assert tree(root) == EMPTY_STORE  # not even the valid entries
    assert tree(tmp_path) == ["store"] + [f"store/{d}" for d in EMPTY_STORE]


def test_kept_links_survive_reunpacking_from_the_stored_zip(root: Path) -> None:
    stored = CodeStore(root).put(make_zip(NPM))
    shutil.rmtree(stored.path)
    again = CodeStore(root).get(stored.sha256_hex)
    assert os.readlink(again.path / "node_modules/.bin/semver") == "../semver/bin/semver.js"


# -- once per sha, restarts, removal ------------------------------------------------------


def unpack_count(caplog: pytest.LogCaptureFixture) -> int:
    return sum(r.getMessage() == "code unpacked" for r in caplog.records)


def test_put_of_stored_zip_does_no_extraction(
    store: CodeStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="orchestrator.code_store")
    data = make_zip([("h.py", b"x")])
    first = store.put(data)
    (first.path / "sentinel").write_bytes(b"")  # would vanish if the dir were re-extracted
    inode = first.path.stat().st_ino
    assert store.put(data) == first
    assert (first.path / "sentinel").exists() and first.path.stat().st_ino == inode
    assert unpack_count(caplog) == 1


def test_get_after_restart_and_reunpack_when_dir_missing(root: Path) -> None:
    data = make_zip([(info("bootstrap", stat.S_IFREG | 0o755), b"#!/bin/sh\n")])
    stored = CodeStore(root).put(data)

    fresh = CodeStore(root)
    assert fresh.known() == {stored.sha256_hex}
    assert fresh.get(stored.sha256_hex) == stored

    for p in sorted(stored.path.rglob("*"), reverse=True):
        p.unlink()
    stored.path.rmdir()
    again = fresh.get(stored.sha256_hex)
    assert again == stored
    assert stat.S_IMODE((again.path / "bootstrap").stat().st_mode) == 0o755


def test_get_unknown_or_malformed_sha_raises_key_error(store: CodeStore) -> None:
    with pytest.raises(KeyError):
        store.get("0" * 64)
    with pytest.raises(KeyError):
        store.get("../../etc")


def test_remove_deletes_zip_and_unpacked_dir(store: CodeStore, root: Path) -> None:
    data = make_zip([("h.py", b"x")])
    code = store.put(data)
    store.remove(code.sha256_hex)
    assert store.known() == set()
    assert tree(root) == EMPTY_STORE
    store.remove(code.sha256_hex)  # unknown: nothing to do
    with pytest.raises(ValueError):
        store.remove("../unpacked")
    assert store.put(data) == code  # storable again


def test_stale_scratch_entries_are_swept_on_start(root: Path) -> None:
    CodeStore(root)
    stale, fresh = root / ".tmp-unpack-stale", root / ".tmp-unpack-fresh"
    stale.mkdir()
    (stale / "partial.bin").write_bytes(b"x")
    fresh.mkdir()
    old = time.time() - 2 * 3600
    os.utime(stale, (old, old))
    CodeStore(root)
    assert not stale.exists() and fresh.exists()  # fresh may be another store's work


# -- concurrency --------------------------------------------------------------------------


@pytest.mark.parametrize("shared_store", [True, False], ids=["one-store", "store-per-thread"])
def test_concurrent_puts_of_the_same_zip_are_safe(
    root: Path, shared_store: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="orchestrator.code_store")
    # One store shares a per-sha lock; separate stores (like separate processes) race on the
    # final rename instead. Either way: one unpacked dir, full content, no leftovers.
    data = make_zip([(f"m{i}.py", os.urandom(20_000)) for i in range(50)])
    stores = [CodeStore(root)] * 8 if shared_store else [CodeStore(root) for _ in range(8)]
    barrier = threading.Barrier(len(stores))

    def put(s: CodeStore) -> StoredCode:
        barrier.wait()  # release all threads at once
        return s.put(data)

    with ThreadPoolExecutor(len(stores)) as pool:
        results = list(pool.map(put, stores))  # re-raises any thread's exception

    assert len(set(results)) == 1
    code = results[0]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            assert (code.path / name).read_bytes() == zf.read(name)
    files = sorted(f"{code.sha256_hex}/{n}" for n in zf.namelist())
    assert tree(root / "unpacked") == [code.sha256_hex, *files]
    assert not list(root.glob(".tmp-*"))
    if shared_store:
        assert unpack_count(caplog) == 1
