"""Function logs, stored durably: CloudWatch's model (groups, streams, events) in SQLite (WAL).

One log group per function (`/aws/lambda/<function>`), one stream per instance. An event is keyed
by (stream, seq), the agent's per-instance sequence number, so re-delivered events are dropped
(`INSERT OR IGNORE`) and a stream reads back in the order it was printed. Writes come in batches
from one writer thread (log_shipping.py); reads come from API handlers on worker threads, over
their own connection (WAL: readers never wait for the writer).

Retention: events older than a group's days, and the oldest events beyond its byte budget, are
deleted by `enforce_retention`, which the server calls periodically.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .json_filter import InvalidJsonFilter, JsonFilter

SCHEMA = """
CREATE TABLE IF NOT EXISTS log_groups (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    retention_days INTEGER,
    stored_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS log_streams (
    id INTEGER PRIMARY KEY,
    group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    first_ts INTEGER,
    last_ts INTEGER,
    last_ingest_ms INTEGER,
    last_seq INTEGER NOT NULL DEFAULT 0,
    stored_bytes INTEGER NOT NULL DEFAULT 0,
    node TEXT NOT NULL DEFAULT '',
    UNIQUE (group_id, name)
);
CREATE TABLE IF NOT EXISTS log_events (
    stream_id INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    ingest_ms INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    message TEXT NOT NULL,
    platform INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (stream_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS log_events_by_time ON log_events (group_id, ts, stream_id, seq);
CREATE INDEX IF NOT EXISTS log_events_by_request ON log_events (group_id, request_id)
    WHERE request_id != '';
"""

MAX_EVENTS_PER_PAGE = 10_000
MAX_BYTES_PER_PAGE = 1_048_576
DAY_MS = 86_400_000


# The SQL function a JSON filter pattern is matched through, registered for one query at a time.
JSON_MATCH = "lambkin_json_match"


class InvalidFilterPattern(ValueError):
    pass


class GroupNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Row:
    """One event on its way in."""

    seq: int
    ts: int
    request_id: str
    message: str
    # The agent's own record (START, END, REPORT, ...), never something the function printed.
    platform: bool = False


@dataclass(frozen=True)
class StreamKey:
    group: str
    stream: str


def _add_new_columns(conn: sqlite3.Connection) -> None:
    """A logs.db from before platform records were marked, or streams named their node: add the
    columns (0: unknown origin; '': no node known)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(log_events)")}
    if "platform" not in columns:
        conn.execute("ALTER TABLE log_events ADD COLUMN platform INTEGER NOT NULL DEFAULT 0")
    columns = {row[1] for row in conn.execute("PRAGMA table_info(log_streams)")}
    if "node" not in columns:
        conn.execute("ALTER TABLE log_streams ADD COLUMN node TEXT NOT NULL DEFAULT ''")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class FilterPattern:
    """CloudWatch's simple term syntax: `a b` (both), `"a phrase"`, `?a ?b` (either), `-a` (not),
    or a JSON pattern `{ $.level = "ERROR" }` (json_filter.py), matched in Python over each row.

    Lambkin extension: a term equal to an event's request id matches that event, so lines a
    function printed can be found by the request id they were printed under.
    """

    all_of: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    json: JsonFilter | None = None

    @classmethod
    def parse(cls, pattern: str | None) -> FilterPattern:
        text = (pattern or "").strip()
        if not text:
            return cls()
        if text.startswith("{"):
            try:
                return cls(json=JsonFilter.parse(text))
            except InvalidJsonFilter as exc:
                raise InvalidFilterPattern(str(exc)) from None
        if text.startswith("["):
            raise InvalidFilterPattern(
                "Space-delimited filter patterns are not supported; use terms or JSON."
            )
        terms = _split_terms(text)
        all_of = [t for t in terms if not t.startswith(("?", "-"))]
        any_of = [t[1:] for t in terms if t.startswith("?") and len(t) > 1]
        none_of = [t[1:] for t in terms if t.startswith("-") and len(t) > 1]
        return cls(
            tuple(_unquote(t) for t in all_of),
            tuple(_unquote(t) for t in any_of),
            tuple(_unquote(t) for t in none_of),
        )

    def sql(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.json is not None:
            clauses.append(f"{JSON_MATCH}(message)")
        for term in self.all_of:
            clauses.append("(instr(message, ?) > 0 OR request_id = ?)")
            args += [term, term]
        if self.any_of:
            clauses.append(
                "("
                + " OR ".join("instr(message, ?) > 0 OR request_id = ?" for _ in self.any_of)
                + ")"
            )
            for term in self.any_of:
                args += [term, term]
        for term in self.none_of:
            clauses.append("instr(message, ?) = 0")
            args.append(term)
        return " AND ".join(clauses), args


def _split_terms(text: str) -> list[str]:
    terms, current, quoted = [], "", False
    for char in text:
        if char == '"':
            quoted = not quoted
            current += char
        elif char.isspace() and not quoted:
            if current:
                terms.append(current)
            current = ""
        else:
            current += char
    if quoted:
        raise InvalidFilterPattern("Unbalanced quotes in filter pattern.")
    if current:
        terms.append(current)
    return terms


def _unquote(term: str) -> str:
    return term[1:-1] if len(term) >= 2 and term[0] == term[-1] == '"' else term


class LogStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._write = self._connect()
        self._write.executescript(SCHEMA)
        _add_new_columns(self._write)
        self._read = self._connect()
        self._write_lock = threading.Lock()
        self._read_lock = threading.Lock()
        self._streams: dict[StreamKey, tuple[int, int]] = {}  # -> (group id, stream id)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable across a process crash
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    def close(self) -> None:
        with self._write_lock, self._read_lock:
            self._write.close()
            self._read.close()

    # -- writing (the shipper's thread) ----------------------------------------------------------

    def open_stream(self, key: StreamKey, node: str = "") -> int:
        """Create the group and stream if needed, labelled with the `node` its instance runs on
        (if known); the stream's last stored seq (0 if new)."""
        with self._write_lock:
            ids = self._ids_locked(key)
            if node:  # an instance never moves: a stream's node is set once
                self._write.execute(
                    "UPDATE log_streams SET node = ? WHERE id = ? AND node = ''", (node, ids[1])
                )
            row = self._write.execute(
                "SELECT last_seq FROM log_streams WHERE id = ?", (ids[1],)
            ).fetchone()
            return int(row[0])

    def _ids_locked(self, key: StreamKey) -> tuple[int, int]:
        ids = self._streams.get(key)
        if ids is not None:
            return ids
        created = now_ms()
        conn = self._write
        conn.execute(
            "INSERT OR IGNORE INTO log_groups (name, created_ms) VALUES (?, ?)",
            (key.group, created),
        )
        group_id = conn.execute(
            "SELECT id FROM log_groups WHERE name = ?", (key.group,)
        ).fetchone()[0]
        conn.execute(
            "INSERT OR IGNORE INTO log_streams (group_id, name, created_ms) VALUES (?, ?, ?)",
            (group_id, key.stream, created),
        )
        stream_id = conn.execute(
            "SELECT id FROM log_streams WHERE group_id = ? AND name = ?", (group_id, key.stream)
        ).fetchone()[0]
        self._streams[key] = (group_id, stream_id)
        return group_id, stream_id

    def append(self, batches: Iterable[tuple[StreamKey, Sequence[Row]]]) -> int:
        """Store events in one transaction; duplicates (same stream and seq) are ignored.

        Returns how many were new.
        """
        ingest = now_ms()
        with self._write_lock:
            conn = self._write
            conn.execute("BEGIN")
            try:
                inserted_events = 0
                for key, rows in batches:
                    if not rows:
                        continue
                    group_id, stream_id = self._ids_locked(key)
                    mark = conn.total_changes
                    conn.executemany(
                        "INSERT OR IGNORE INTO log_events"
                        " (stream_id, seq, group_id, ts, ingest_ms, request_id, message, platform)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                stream_id,
                                r.seq,
                                group_id,
                                r.ts,
                                ingest,
                                r.request_id,
                                r.message,
                                int(r.platform),
                            )
                            for r in rows
                        ],
                    )
                    new = conn.total_changes - mark
                    inserted_events += new
                    size = sum(len(r.message) for r in rows) if new else 0
                    conn.execute(
                        "UPDATE log_streams SET first_ts = COALESCE(MIN(first_ts, ?), ?),"
                        " last_ts = MAX(COALESCE(last_ts, 0), ?), last_ingest_ms = ?,"
                        " last_seq = MAX(last_seq, ?), stored_bytes = stored_bytes + ?"
                        " WHERE id = ?",
                        (
                            rows[0].ts,
                            rows[0].ts,
                            rows[-1].ts,
                            ingest,
                            max(r.seq for r in rows),
                            size,
                            stream_id,
                        ),
                    )
                    if size:
                        conn.execute(
                            "UPDATE log_groups SET stored_bytes = stored_bytes + ? WHERE id = ?",
                            (size, group_id),
                        )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return inserted_events

    # -- retention --------------------------------------------------------------------------------

    def set_retention(self, group: str, days: int | None) -> None:
        with self._write_lock:
            cursor = self._write.execute(
                "UPDATE log_groups SET retention_days = ? WHERE name = ?", (days, group)
            )
            if cursor.rowcount == 0:
                raise GroupNotFound(group)

    def delete_group(self, group: str) -> None:
        with self._write_lock:
            row = self._write.execute(
                "SELECT id FROM log_groups WHERE name = ?", (group,)
            ).fetchone()
            if row is None:
                raise GroupNotFound(group)
            self._write.execute("BEGIN")
            self._write.execute("DELETE FROM log_events WHERE group_id = ?", (row[0],))
            self._write.execute("DELETE FROM log_streams WHERE group_id = ?", (row[0],))
            self._write.execute("DELETE FROM log_groups WHERE id = ?", (row[0],))
            self._write.execute("COMMIT")
            self._streams = {k: v for k, v in self._streams.items() if v[0] != row[0]}

    def enforce_retention(
        self,
        limits: Callable[[str, int | None], tuple[int | None, int | None]],
        now: int | None = None,
    ) -> int:
        """Delete what is past a group's limits: `limits(group, retention_days)` -> (days, bytes).

        Returns how many events were deleted.
        """
        now = now if now is not None else now_ms()
        deleted = 0
        with self._read_lock:
            groups = self._read.execute(
                "SELECT id, name, retention_days, stored_bytes FROM log_groups"
            ).fetchall()
        for group_id, name, retention_days, stored in groups:
            days, max_bytes = limits(name, retention_days)
            with self._write_lock:
                conn = self._write
                if days:
                    deleted += self._delete_locked(group_id, "ts < ?", (now - days * DAY_MS,))
                if max_bytes is not None:
                    stored = conn.execute(
                        "SELECT stored_bytes FROM log_groups WHERE id = ?", (group_id,)
                    ).fetchone()[0]
                    while stored > max_bytes:
                        excess = stored - max_bytes
                        # the oldest events whose sizes add up to the excess (at least one)
                        cutoff = conn.execute(
                            "SELECT ts, stream_id, seq FROM (SELECT ts, stream_id, seq,"
                            " SUM(length(message)) OVER (ORDER BY ts, stream_id, seq) AS running"
                            " FROM log_events WHERE group_id = ? ORDER BY ts, stream_id, seq)"
                            " WHERE running >= ? LIMIT 1",
                            (group_id, excess),
                        ).fetchone()
                        if cutoff is None:
                            break
                        deleted += self._delete_locked(
                            group_id, "(ts, stream_id, seq) <= (?, ?, ?)", tuple(cutoff)
                        )
                        stored = conn.execute(
                            "SELECT stored_bytes FROM log_groups WHERE id = ?", (group_id,)
                        ).fetchone()[0]
        return deleted

    def _delete_locked(self, group_id: int, where: str, args: tuple[Any, ...]) -> int:
        conn = self._write
        conn.execute("BEGIN")
        try:
            sizes = conn.execute(
                f"DELETE FROM log_events WHERE group_id = ? AND {where}"
                " RETURNING stream_id, length(message)",
                (group_id, *args),
            ).fetchall()
            per_stream: dict[int, int] = {}
            for stream_id, size in sizes:
                per_stream[stream_id] = per_stream.get(stream_id, 0) + size
            for stream_id, size in per_stream.items():
                conn.execute(
                    "UPDATE log_streams SET stored_bytes = stored_bytes - ? WHERE id = ?",
                    (size, stream_id),
                )
            conn.execute(
                "UPDATE log_groups SET stored_bytes = stored_bytes - ? WHERE id = ?",
                (sum(per_stream.values()), group_id),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(sizes)

    # -- reading (API handlers, on worker threads) -----------------------------------------------

    def _query(
        self, sql: str, args: Sequence[Any] = (), json: JsonFilter | None = None
    ) -> list[tuple[Any, ...]]:
        with self._read_lock:
            if json is None:
                return self._read.execute(sql, args).fetchall()
            self._read.create_function(JSON_MATCH, 1, json.matches, deterministic=True)
            try:
                return self._read.execute(sql, args).fetchall()
            finally:
                self._read.create_function(JSON_MATCH, 1, None)

    def _group_id(self, group: str) -> int:
        rows = self._query("SELECT id FROM log_groups WHERE name = ?", (group,))
        if not rows:
            raise GroupNotFound(group)
        return int(rows[0][0])

    def groups(self, prefix: str = "", after: str = "", limit: int = 50) -> list[tuple[Any, ...]]:
        """(name, created_ms, retention_days, stored_bytes), by name, names > after."""
        return self._query(
            "SELECT name, created_ms, retention_days, stored_bytes FROM log_groups"
            " WHERE substr(name, 1, ?) = ? AND name > ? ORDER BY name LIMIT ?",
            (len(prefix), prefix, after, limit),
        )

    def streams(
        self,
        group: str,
        prefix: str = "",
        by_last_event: bool = False,
        descending: bool = False,
        offset: int = 0,
        limit: int = 50,
        node: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """(name, created_ms, first_ts, last_ts, last_ingest_ms, stored_bytes, node); with
        `node`, only the streams of instances that ran there."""
        group_id = self._group_id(group)
        order = "COALESCE(last_ts, 0)" if by_last_event else "name"
        direction = "DESC" if descending else "ASC"
        on_node, node_args = ("", ()) if node is None else (" AND node = ?", (node,))
        return self._query(
            "SELECT name, created_ms, first_ts, last_ts, last_ingest_ms, stored_bytes, node"
            f" FROM log_streams WHERE group_id = ? AND substr(name, 1, ?) = ?{on_node}"
            f" ORDER BY {order} {direction}, id {direction} LIMIT ? OFFSET ?",
            (group_id, len(prefix), prefix, *node_args, limit, offset),
        )

    def stream_node(self, group: str, stream: str) -> str:
        """The node a stream's instance ran on; '' when none is known (or no such stream)."""
        rows = self._query(
            "SELECT node FROM log_streams WHERE group_id = ? AND name = ?",
            (self._group_id(group), stream),
        )
        return str(rows[0][0]) if rows else ""

    def stream_events(
        self,
        group: str,
        stream: str,
        start: int | None,
        end: int | None,
        after_seq: int | None,
        before_seq: int | None,
        limit: int,
    ) -> list[tuple[Any, ...]]:
        """(seq, ts, ingest_ms, request_id, message, platform) of one stream, in seq order.

        With `before_seq` (reading backwards) the last `limit` events before it.
        """
        group_id = self._group_id(group)
        clauses = ["s.group_id = ?", "s.name = ?"]
        args: list[Any] = [group_id, stream]
        _time_range(clauses, args, start, end)
        if after_seq is not None:
            clauses.append("e.seq > ?")
            args.append(after_seq)
        if before_seq is not None:
            clauses.append("e.seq < ?")
            args.append(before_seq)
        order = "DESC" if before_seq is not None else "ASC"
        rows = self._query(
            "SELECT e.seq, e.ts, e.ingest_ms, e.request_id, e.message, e.platform FROM log_events e"
            " JOIN log_streams s ON s.id = e.stream_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY e.seq {order} LIMIT ?",
            (*args, limit),
        )
        return rows[::-1] if before_seq is not None else rows

    def filter_events(
        self,
        group: str,
        stream_names: Sequence[str] | None,
        start: int | None,
        end: int | None,
        pattern: FilterPattern,
        after: tuple[int, int, int] | None,
        limit: int,
        node: str | None = None,
    ) -> list[tuple[Any, ...]]:
        """Rows of (ts, stream_id, seq, stream name, ingest_ms, request_id, message, platform,
        node); with `node`, only events of streams of that node.

        Ordered by time, then stream.
        """
        group_id = self._group_id(group)
        clauses = ["e.group_id = ?"]
        args: list[Any] = [group_id]
        if stream_names:
            clauses.append(f"s.name IN ({','.join('?' * len(stream_names))})")
            args += list(stream_names)
        if node is not None:
            clauses.append("s.node = ?")
            args.append(node)
        _time_range(clauses, args, start, end)
        if after is not None:
            clauses.append("(e.ts, e.stream_id, e.seq) > (?, ?, ?)")
            args += list(after)
        where, pattern_args = pattern.sql()
        if where:
            clauses.append(where)
            args += pattern_args
        return self._query(
            "SELECT e.ts, e.stream_id, e.seq, s.name, e.ingest_ms, e.request_id, e.message,"
            " e.platform, s.node FROM log_events e JOIN log_streams s ON s.id = e.stream_id"
            f" WHERE {' AND '.join(clauses)} ORDER BY e.ts, e.stream_id, e.seq LIMIT ?",
            (*args, limit),
            pattern.json,
        )

    def count(self, group: str | None = None) -> int:
        if group is None:
            return int(self._query("SELECT COUNT(*) FROM log_events")[0][0])
        return int(
            self._query(
                "SELECT COUNT(*) FROM log_events WHERE group_id = ?", (self._group_id(group),)
            )[0][0]
        )


def _time_range(clauses: list[str], args: list[Any], start: int | None, end: int | None) -> None:
    """Add `start <= ts < end` (either bound optional) to a WHERE clause being built."""
    if start is not None:
        clauses.append("e.ts >= ?")
        args.append(start)
    if end is not None:
        clauses.append("e.ts < ?")
        args.append(end)
