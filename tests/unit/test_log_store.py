"""The log store and the shipper, on a real SQLite file: dedupe, gaps, order, retention, filters."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.log_shipping import DROPPED_MARKER, LogShipper, LogTarget
from orchestrator.logstore import (
    DAY_MS,
    SCHEMA,
    FilterPattern,
    InvalidFilterPattern,
    LogStore,
    Row,
    StreamKey,
)

GROUP = "/aws/lambda/fn"


def event(seq: int, message: str, request_id: str = "", ts: int | None = None) -> bytes:
    ts = ts if ts is not None else 1_700_000_000_000 + seq
    return (
        json.dumps({"s": seq, "t": ts, "r": request_id, "p": "invoke", "m": message}) + "\n"
    ).encode()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LogStore]:
    s = LogStore(tmp_path / "logs.db")
    yield s
    s.close()


Shipper = tuple[LogShipper, list[tuple[str, int, int]]]  # the shipper and what it counted


@pytest.fixture
def shipper(store: LogStore) -> Iterator[Shipper]:
    counted: list[tuple[str, int, int]] = []
    s = LogShipper(store, counter=lambda f, stored, dropped: counted.append((f, stored, dropped)))
    yield s, counted
    s.close()


def stream_messages(store: LogStore, stream: str = "s1") -> list[str]:
    return [row[4] for row in store.stream_events(GROUP, stream, None, None, None, None, 10_000)]


def test_feed_splits_chunks_anywhere_and_skips_non_events(
    store: LogStore, shipper: Shipper
) -> None:
    ship, counted = shipper
    feed = ship.open(LogTarget("fn", "s1", "i1"))
    data = (
        b'{"lambkin_agent": "ready", "control_port": 1}\n'
        + event(1, "one")
        + b"agent noise\n"
        + event(2, "two\ttab")
        + event(3, "three")
    )
    for i in range(0, len(data), 7):  # chunk boundaries fall inside lines
        feed.feed(data[i : i + 7])
    feed.close()
    assert ship.flush()
    assert stream_messages(store) == ["one", "two\ttab", "three"]
    assert sum(c[1] for c in counted) == 3 and sum(c[2] for c in counted) == 0


def test_redelivery_is_dropped_by_sequence_even_across_feeds(
    store: LogStore, shipper: Shipper
) -> None:
    ship, counted = shipper
    first = ship.open(LogTarget("fn", "s1", "i1"))
    first.feed(event(1, "a") + event(2, "b"))
    ship.flush()
    again = ship.open(
        LogTarget("fn", "s1", "i1")
    )  # e.g. a restarted server reading a container's log
    assert again.last_seq == 2
    again.feed(event(1, "a") + event(2, "b") + event(3, "c"))
    ship.flush()
    assert stream_messages(store) == ["a", "b", "c"]
    assert again.duplicates == 2
    assert sum(c[1] for c in counted) == 3


def test_a_gap_is_counted_and_marked(store: LogStore, shipper: Shipper) -> None:
    ship, counted = shipper
    feed = ship.open(LogTarget("fn", "s1", "i1"))
    feed.feed(event(1, "a") + event(5, "e"))
    ship.flush()
    assert stream_messages(store) == ["a", DROPPED_MARKER.format(n=3), "e"]
    assert sum(c[1] for c in counted) == 2 and sum(c[2] for c in counted) == 3


def test_back_pressure_bounds_pending_bytes(store: LogStore) -> None:
    ship = LogShipper(store, max_pending_bytes=10_000)
    feed = ship.open(LogTarget("fn", "s1", "i1"))
    message = "x" * 1000
    started = time.monotonic()
    for seq in range(1, 2001):
        feed.feed(event(seq, message))
        assert ship._pending_bytes <= 10_000 + 1100
    ship.close()
    assert store.count(GROUP) == 2000
    assert time.monotonic() - started < 30


def test_write_throughput(store: LogStore) -> None:
    """Measured: batched inserts of 100-byte lines (printed, not asserted tightly)."""
    rows = [Row(seq, 1_700_000_000_000 + seq, "rid", "z" * 100) for seq in range(1, 100_001)]
    key = StreamKey(GROUP, "s1")
    started = time.perf_counter()
    for i in range(0, len(rows), 20_000):
        store.append([(key, rows[i : i + 20_000])])
    elapsed = time.perf_counter() - started
    print(
        f"log store: {len(rows) / elapsed:,.0f} events/s "
        f"({len(rows) * 100 / elapsed / 1e6:.1f} MB/s of messages)"
    )
    assert store.count(GROUP) == 100_000
    assert elapsed < 20


def test_filter_order_pagination_and_request_id_terms(store: LogStore) -> None:
    a, b = StreamKey(GROUP, "a"), StreamKey(GROUP, "b")
    store.append(
        [
            (
                a,
                [
                    Row(1, 100, "r1", "START r1"),
                    Row(2, 100, "r1", "hello world"),
                    Row(3, 300, "r1", "END r1"),
                ],
            )
        ]
    )
    store.append([(b, [Row(1, 200, "r2", "hello there"), Row(2, 200, "r2", "bye")])])
    everything = store.filter_events(GROUP, None, None, None, FilterPattern(), None, 100)
    assert [r[6] for r in everything] == ["START r1", "hello world", "hello there", "bye", "END r1"]
    first = store.filter_events(GROUP, None, None, None, FilterPattern(), None, 2)
    rest = store.filter_events(GROUP, None, None, None, FilterPattern(), tuple(first[-1][:3]), 100)
    assert [r[6] for r in first + rest] == [r[6] for r in everything]

    def match(pattern: str) -> list[str]:
        return [
            r[6]
            for r in store.filter_events(
                GROUP, None, None, None, FilterPattern.parse(pattern), None, 100
            )
        ]

    assert match("hello") == ["hello world", "hello there"]
    assert match('"hello world"') == ["hello world"]
    assert match("hello -there") == ["hello world"]
    assert match("?bye ?world") == ["hello world", "bye"]
    assert match("r2") == ["hello there", "bye"]  # by the request id the lines were printed under
    assert [
        r[6] for r in store.filter_events(GROUP, ["b"], 150, 250, FilterPattern(), None, 100)
    ] == ["hello there", "bye"]
    with pytest.raises(InvalidFilterPattern):
        FilterPattern.parse("[ip, user, status = 404]")  # space-delimited: not supported


def test_filter_by_json_pattern_over_stored_rows(store: LogStore) -> None:
    lines = [
        '{"level":"INFO","message":"one","cold_start":true}',
        "START RequestId: r1 Version: $LATEST",
        '{"level":"ERROR","message":"two","cold_start":false,"latency":250}',
        '{"level":"ERROR","message":"three","cold_start":false,"latency":50}',
    ]
    store.append([(StreamKey(GROUP, "s"), [Row(i, 100 + i, "r1", m) for i, m in enumerate(lines)])])

    def match(pattern: str, limit: int = 100) -> list[str]:
        rows = store.filter_events(
            GROUP, None, None, None, FilterPattern.parse(pattern), None, limit
        )
        return [json.loads(r[6])["message"] for r in rows]

    assert match('{ $.level = "ERROR" }') == ["two", "three"]
    assert match('{ $.level = "ERROR" }', limit=1) == ["two"]
    assert match("{ $.cold_start IS TRUE }") == ["one"]
    assert match('{ $.level = "ERROR" && $.latency > 100 }') == ["two"]
    assert match("{ $.latency NOT EXISTS }") == ["one"]  # the START line is no JSON at all
    assert match("ERROR") == ["two", "three"]  # the term pattern still works after a JSON one


def test_retention_by_age_and_by_bytes(store: LogStore) -> None:
    now = 1_800_000_000_000
    key = StreamKey(GROUP, "s")
    old = [Row(i, now - 10 * DAY_MS + i, "", "o" * 100) for i in range(1, 11)]
    new = [Row(i, now - DAY_MS + i, "", "n" * 100) for i in range(11, 31)]
    store.append([(key, old + new)])
    assert store.enforce_retention(lambda group, days: (7, None), now=now) == 10
    assert store.count(GROUP) == 20
    assert store.enforce_retention(lambda group, days: (None, 1000), now=now) == 10  # oldest first
    assert [r[0] for r in store.stream_events(GROUP, "s", None, None, None, None, 100)] == list(
        range(21, 31)
    )
    assert store.groups()[0][3] == 1000  # stored bytes kept in step


def test_filter_pattern_parse() -> None:
    assert FilterPattern.parse("") == FilterPattern()
    assert FilterPattern.parse('ERROR "two words" ?a ?b -c') == FilterPattern(
        ("ERROR", "two words"), ("a", "b"), ("c",)
    )


def test_retention_limits_come_from_tags_then_policy_then_settings() -> None:
    from orchestrator.function_config import FunctionConfig
    from orchestrator.observability import retention_limits
    from orchestrator.settings import Settings

    def config(name: str, tags: dict[str, str]) -> FunctionConfig:
        return FunctionConfig(name, "python3.11", "app.h", "r", "ab", "q", 3, tags=tags)

    configs = {
        "tagged": config(
            "tagged", {"lambkin:log-retention-days": "3", "lambkin:log-retention-bytes": "5000"}
        ),
        "plain": config("plain", {}),
    }
    limits = retention_limits(
        Settings(log_retention_days=30, log_retention_bytes=10**9), configs.get
    )
    assert limits("/aws/lambda/tagged", 7) == (3, 5000)
    assert limits("/aws/lambda/plain", 7) == (7, 10**9)
    assert limits("/aws/lambda/plain", None) == (30, 10**9)
    assert limits("/aws/lambda/deleted-function", None) == (30, 10**9)


def test_a_stream_is_labelled_with_its_node_once_and_filtered_by_it(
    store: LogStore, shipper: Shipper
) -> None:
    """A swarm instance's stream names the node it ran on; events and streams are selected by
    it; a stream of one machine's driver has none; a label, once set, is never moved."""
    ship, _ = shipper
    for stream, node, message in (
        ("s1", "worker-1", "one"),
        ("s2", "worker-2", "two"),
        ("s3", "", "three"),
    ):
        feed = ship.open(LogTarget("fn", stream, stream, node=node))
        feed.feed(event(1, message))
        feed.close()
    assert ship.flush()
    store.open_stream(StreamKey(GROUP, "s1"), "worker-2")  # a re-delivery cannot relabel it
    by_stream = {row[0]: row[6] for row in store.streams(GROUP)}
    assert by_stream == {"s1": "worker-1", "s2": "worker-2", "s3": ""}
    assert [row[0] for row in store.streams(GROUP, node="worker-2")] == ["s2"]
    assert store.stream_node(GROUP, "s1") == "worker-1"
    assert store.stream_node(GROUP, "s3") == store.stream_node(GROUP, "absent") == ""

    def messages(node: str | None) -> list[tuple[str, str]]:
        rows = store.filter_events(GROUP, None, None, None, FilterPattern(), None, 100, node)
        return [(row[6], row[8]) for row in rows]

    assert messages(None) == [("one", "worker-1"), ("two", "worker-2"), ("three", "")]
    assert messages("worker-1") == [("one", "worker-1")]
    assert messages("worker-9") == []


def test_a_logs_db_from_before_node_labels_is_upgraded_in_place(tmp_path: Path) -> None:
    """The schema of the release before streams had a node: its events stay, the streams gain
    the column (no node known), and a new stream is labelled."""
    path = tmp_path / "logs.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA.replace("    node TEXT NOT NULL DEFAULT '',\n", ""))
    old.execute("INSERT INTO log_groups (id, name, created_ms) VALUES (1, ?, 1)", (GROUP,))
    old.execute("INSERT INTO log_streams (id, group_id, name, created_ms) VALUES (1, 1, 'old', 1)")
    old.execute(
        "INSERT INTO log_events (stream_id, seq, group_id, ts, ingest_ms, request_id, message)"
        " VALUES (1, 1, 1, 5, 5, '', 'kept')"
    )
    old.commit()
    assert "node" not in {row[1] for row in old.execute("PRAGMA table_info(log_streams)")}
    old.close()
    store = LogStore(path)
    try:
        assert [row[4] for row in store.stream_events(GROUP, "old", None, None, None, None, 9)] == [
            "kept"
        ]
        assert store.stream_node(GROUP, "old") == ""
        store.open_stream(StreamKey(GROUP, "new"), "worker-1")
        assert {row[0]: row[6] for row in store.streams(GROUP)} == {"old": "", "new": "worker-1"}
    finally:
        store.close()
