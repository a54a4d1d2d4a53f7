"""log_files.py on real files: what an agent appends reaches the feed, promptly and exactly once;
finishing reads to the end; a crashed server's files are recovered; the disk behind the reader
is freed; a runaway backlog is skipped at a line boundary."""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.log_files import LogFiles, header_line, parse_header
from orchestrator.log_shipping import LogTarget


class Collected:
    def __init__(self) -> None:
        self.data = b""
        self.closed = False

    def feed(self, chunk: bytes) -> None:
        assert not self.closed
        self.data += chunk

    def close(self) -> None:
        self.closed = True


class Feeds:
    def __init__(self) -> None:
        self.opened: dict[str, tuple[str, str, Collected]] = {}

    def __call__(self, target: LogTarget) -> Collected:
        feed = Collected()
        self.opened[target.instance_id] = (target.function_name, target.stream_name, feed)
        return feed

    def of(self, instance_id: str) -> Collected:
        return self.opened[instance_id][2]


def append(path: Path, data: bytes) -> None:
    """As the agent writes: O_APPEND, its own descriptor."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def until(condition: Callable[[], bool], timeout_s: float = 5.0) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise AssertionError("condition not met in time")
        time.sleep(0.005)
    return time.monotonic() - started


@pytest.fixture
def feeds() -> Feeds:
    return Feeds()


@pytest.fixture
def files(tmp_path: Path, feeds: Feeds) -> Iterator[LogFiles]:
    # A long sweep: anything seen sooner came through the file-change notification.
    log_files = LogFiles(tmp_path / "logs", feeds, sweep_s=30.0)
    yield log_files
    log_files.close()


def test_the_file_is_private_and_starts_with_its_header(files: LogFiles, feeds: Feeds) -> None:
    path = files.create(LogTarget("fn", "2026/12/01/[$LATEST]abc", "abc"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o660
    assert stat.S_IMODE(files.directory.stat().st_mode) == 0o700
    first = path.read_bytes().splitlines()[0]
    assert parse_header(first) == LogTarget(
        "fn", "2026/12/01/[$LATEST]abc", "abc", "/aws/lambda/fn"
    )
    assert feeds.opened["abc"][:2] == ("fn", "2026/12/01/[$LATEST]abc")
    assert feeds.of("abc").data == b"", "the header is not an event"


def test_appended_lines_reach_the_feed_promptly(files: LogFiles, feeds: Feeds) -> None:
    path = files.create(LogTarget("fn", "s", "i1"))
    append(path, b'{"s":1}\n')
    waited = until(lambda: feeds.of("i1").data == b'{"s":1}\n')
    assert waited < 1.0, f"{waited:.2f} s: the change notification did not wake the reader"
    append(path, b'{"s":2}\n{"s":3}\n')
    until(lambda: feeds.of("i1").data.count(b"\n") == 3)


def test_finish_reads_to_the_end_then_closes_and_deletes(files: LogFiles, feeds: Feeds) -> None:
    path = files.create(LogTarget("fn", "s", "i2"))
    append(path, b"a\nb\nlast without newline")
    files.finish("i2")
    feed = feeds.of("i2")
    assert feed.data == b"a\nb\nlast without newline" and feed.closed
    assert not path.exists()
    files.finish("i2")  # idempotent


def test_a_crashed_servers_files_are_recovered_once(tmp_path: Path) -> None:
    directory = tmp_path / "logs"
    first = Feeds()
    crashed = LogFiles(directory, first, sweep_s=30.0)
    path = crashed.create(LogTarget("fn", "s", "i3"))
    append(path, b"printed before the crash\n")
    crashed.close()  # the server died: the file stays
    append(path, b"printed while it was down\n")
    (directory / "junk.log").write_bytes(b"not ours\n")

    second = Feeds()
    restarted = LogFiles(directory, second, sweep_s=30.0)
    try:
        assert restarted.recover() == 1
        function, stream, feed = second.opened["i3"]
        assert (function, stream) == ("fn", "s")
        assert feed.data == b"printed before the crash\nprinted while it was down\n"
        assert feed.closed
        assert list(directory.iterdir()) == []
    finally:
        restarted.close()


def test_a_vacant_instances_file_is_claimed_by_its_function(files: LogFiles, feeds: Feeds) -> None:
    path = files.reserve("v1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o660 and path.read_bytes() == b""
    assert "v1" not in feeds.opened, "nobody follows a vacancy's file"
    files.claim(LogTarget("fn", "2026/12/02/[$LATEST]v1", "v1"))
    assert parse_header(path.read_bytes().splitlines()[0]) == LogTarget(
        "fn",
        "2026/12/02/[$LATEST]v1",
        "v1",
        "/aws/lambda/fn",
    )
    append(path, b'{"s":1}\n')
    until(lambda: feeds.of("v1").data == b'{"s":1}\n')
    with pytest.raises(ValueError, match="belongs to a function already"):
        files.claim(LogTarget("other", "s", "v1"))  # never handed to a second function
    files.finish("v1")
    assert not path.exists() and feeds.of("v1").closed


def test_an_unclaimed_file_is_only_deleted(files: LogFiles, feeds: Feeds, tmp_path: Path) -> None:
    path = files.reserve("v2")
    files.finish("v2")
    assert not path.exists() and "v2" not in feeds.opened
    left = files.reserve("v3")  # a vacancy a crashed server left
    assert files.recover() == 0 and not left.exists()
    kept = files.directory / "v4.log"
    kept.write_bytes(b"")
    append(kept, b"written by something not ours\n")
    files.finish("v4")
    assert kept.exists(), "finish deletes only an empty, unclaimed file"


def test_recover_leaves_followed_files_alone(files: LogFiles, feeds: Feeds) -> None:
    path = files.create(LogTarget("fn", "s", "i4"))
    assert files.recover() == 0
    assert path.exists() and not feeds.of("i4").closed


def test_the_disk_behind_the_reader_is_freed(files: LogFiles, feeds: Feeds) -> None:
    path = files.create(LogTarget("fn", "s", "i5"))
    line = b"x" * 1023 + b"\n"
    append(path, line * 6 * 1024)  # 6 MB
    until(lambda: len(feeds.of("i5").data) == 6 * 2**20, timeout_s=10)
    until(lambda: path.stat().st_blocks * 512 < 3 * 2**20)
    assert path.stat().st_size > 6 * 2**20, "the size stays: the agent keeps appending"


def test_a_runaway_backlog_is_skipped_at_a_line_boundary(tmp_path: Path) -> None:
    feeds = Feeds()
    files = LogFiles(tmp_path / "logs", feeds, sweep_s=30.0, max_backlog_bytes=64 * 1024)
    try:
        path = files.create(LogTarget("fn", "s", "i6"))
        lines = [b"%06d" % i + b"y" * 93 + b"\n" for i in range(2000)]  # 100 B each, 200 KB
        append(path, b"".join(lines))
        files.finish("i6")
        received = feeds.of("i6").data.split(b"\n")
        assert received[0] == b"", "the partial line the feed held is ended"
        kept = [line + b"\n" for line in received[1:] if line]
        assert kept == lines[-len(kept) :], "whole lines, the newest ones, in order"
        assert 300 <= len(kept) <= 700
    finally:
        files.close()


def test_header_round_trip_and_garbage() -> None:
    assert parse_header(header_line(LogTarget("f n", "a/[$LATEST]b", "c"))) == LogTarget(
        "f n", "a/[$LATEST]b", "c", "/aws/lambda/f n", node=""
    )
    # LoggingConfig.LogGroup: written only when it is not the default
    custom = header_line(LogTarget("f", "s", "c", "my/custom-group"))
    assert parse_header(custom) == LogTarget("f", "s", "c", "my/custom-group")
    # The node (a swarm driver's): written only when there is one
    on_node = header_line(LogTarget("f", "s", "c", node="worker-2"))
    assert parse_header(on_node) == LogTarget("f", "s", "c", "/aws/lambda/f", node="worker-2")
    assert b"node" not in header_line(LogTarget("f", "s", "c"))
    assert header_line(LogTarget("f", "s", "c", "/aws/lambda/f")) == header_line(
        LogTarget("f", "s", "c")
    )
    for line in (b"", b"{}", b'{"lambkin_log": 3}', b'{"lambkin_log": []}', b"\xff", b'{"s":1}'):
        assert parse_header(line) is None


def test_the_watcher_does_not_log_every_batch(
    files: LogFiles, feeds: Feeds, caplog: pytest.LogCaptureFixture
) -> None:
    """watchfiles logs each batch of changes at INFO: under load, tens of server log lines a
    second that say nothing."""
    caplog.set_level(logging.INFO)
    path = files.create(LogTarget("fn", "s", "i7"))
    for n in range(3):
        line = b"%d\n" % n
        append(path, line)

        def arrived(line: bytes = line) -> bool:
            return feeds.of("i7").data.endswith(line)

        until(arrived)
    assert not [r for r in caplog.records if r.name.startswith("watchfiles")], caplog.records
