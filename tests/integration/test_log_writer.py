"""The log writer process (orchestrator/log_writer.py): a real child process, real files, real
SQLite. It stores what the agents append, reports the counts back, recovers only the files that
were there when asked, and dies with the control plane."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.log_files import create_file
from orchestrator.log_shipping import LogTarget
from orchestrator.log_writer import LogWriter
from orchestrator.logstore import GroupNotFound, LogStore

STREAM = "2026/12/02/[$LATEST]abc"


def event(seq: int, message: str) -> bytes:
    record = {"s": seq, "t": 1_700_000_000_000 + seq, "r": "", "p": "invoke", "m": message}
    return (json.dumps(record) + "\n").encode()


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def until(condition: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def messages(store: LogStore, function: str) -> list[str]:
    try:
        rows = store.stream_events(f"/aws/lambda/{function}", STREAM, None, None, None, None, 100)
    except GroupNotFound:
        return []
    return [row[4] for row in rows]


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[LogWriter, LogStore, list[tuple[str, int, int]]]]:
    counted: list[tuple[str, int, int]] = []
    store = LogStore(tmp_path / "logs.db")  # the control plane's own reader
    writer = LogWriter(tmp_path / "files", tmp_path / "logs.db", lambda *c: counted.append(c))
    yield writer, store, counted
    writer.close()
    store.close()


def test_the_writer_stores_what_an_agent_appends_and_reports_counts(
    setup: tuple[LogWriter, LogStore, list[tuple[str, int, int]]],
) -> None:
    writer, store, counted = setup
    path = writer.create(LogTarget("fn", STREAM, "i1"))
    append(path, event(1, "first") + event(2, "second"))
    assert until(lambda: messages(store, "fn") == ["first", "second"])  # while it runs
    append(path, event(3, "last"))
    writer.finish("i1")  # the agent is gone: the rest, then the file goes
    assert until(lambda: messages(store, "fn") == ["first", "second", "last"])
    assert until(lambda: not path.exists())
    assert until(lambda: sum(stored for f, stored, _ in counted if f == "fn") == 3)


def test_recover_takes_only_the_files_present_when_asked(
    setup: tuple[LogWriter, LogStore, list[tuple[str, int, int]]],
) -> None:
    writer, store, _ = setup
    left = create_file(writer.directory, LogTarget("old", STREAM, "dead"))  # a dead control plane's
    append(left, event(1, "from before"))
    writer.recover()
    # Made right after: followed, not recovered.
    fresh = writer.create(LogTarget("new", STREAM, "alive"))
    append(fresh, event(1, "still running"))
    assert until(lambda: messages(store, "old") == ["from before"] and not left.exists())
    assert until(lambda: messages(store, "new") == ["still running"])
    assert fresh.exists(), "a followed file stays until its instance finishes"


def test_closing_stores_everything_and_keeps_the_files(
    setup: tuple[LogWriter, LogStore, list[tuple[str, int, int]]],
) -> None:
    writer, store, _ = setup
    path = writer.create(LogTarget("fn", STREAM, "i2"))
    append(path, event(1, "just before the end"))
    writer.close()
    assert messages(store, "fn") == ["just before the end"]
    assert path.exists()  # a later recover() stores nothing twice (sequence numbers)


def test_the_writer_dies_with_the_control_plane(tmp_path: Path) -> None:
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from orchestrator.log_writer import LogWriter\n"
        f"w = LogWriter(Path({str(tmp_path / 'files')!r}), Path({str(tmp_path / 'l.db')!r}),"
        " lambda *c: None)\n"
        "print(w.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=Path(__file__).parents[2]
    )
    assert parent.stdout is not None
    writer_pid = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()

    def gone() -> bool:
        try:
            with open(f"/proc/{writer_pid}/stat") as f:
                return f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    assert until(gone, 5.0), "the log writer outlived the control plane"
