"""The durable queue of asynchronous invocations, in SQLite (WAL, fsynced on every commit).

An event is accepted (202) only once its row is committed, so a crash at any moment loses no
accepted event. Events being run when the server died are pending again on the next start
(at-least-once). Failed events stay in the table as the built-in dead-letter store.

All methods are blocking; the dispatcher calls them from a worker thread.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .sqlite_db import open_durable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL UNIQUE,
    function TEXT NOT NULL,
    payload BLOB NOT NULL,
    received_at REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    state TEXT NOT NULL,           -- pending | running | failed
    condition TEXT,                -- why it failed: RetriesExhausted, EventAgeExceeded, ...
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS events_due ON events (state, next_attempt_at);
CREATE INDEX IF NOT EXISTS events_function ON events (function, state);
"""

PENDING, RUNNING, FAILED = "pending", "running", "failed"


@dataclass(frozen=True)
class Event:
    id: int
    request_id: str
    function: str
    payload: bytes
    received_at: float
    attempts: int
    state: str = PENDING
    condition: str | None = None
    last_error: str | None = None

    def describe(self) -> dict[str, Any]:
        return {
            "RequestId": self.request_id,
            "FunctionName": self.function,
            "ReceivedAt": self.received_at,
            "Attempts": self.attempts,
            "State": self.state,
            "Condition": self.condition,
            "LastError": self.last_error,
            "PayloadBytes": len(self.payload),
        }


def _event(row: tuple[Any, ...]) -> Event:
    return Event(*row)


# A function's events, its versions' too: those are queued as "name:version" (a name holds no
# colon), so one parameter matches both.
_OF_FUNCTION = "? IN (function, substr(function, 1, instr(function, ':') - 1))"
_COLUMNS = "id, request_id, function, payload, received_at, attempts, state, condition, last_error"


class EventQueue:
    def __init__(self, path: Path) -> None:
        self._db = open_durable(path, _SCHEMA)
        self._lock = threading.Lock()
        # Whatever was running when the previous process died runs again.
        self._db.execute("UPDATE events SET state = ? WHERE state = ?", (PENDING, RUNNING))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, request_id: str, function: str, payload: bytes, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            self._db.execute(
                "INSERT INTO events"
                " (request_id, function, payload, received_at, next_attempt_at, state)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (request_id, function, payload, now, now, PENDING),
            )

    def claim_due(self, now: float, limit: int) -> list[Event]:
        """Mark up to `limit` due events as running and return them, oldest due first."""
        if limit <= 0:
            return []
        with self._lock, self._db:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE state = ? AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at LIMIT ?",
                (PENDING, now, limit),
            ).fetchall()
            self._db.executemany(
                "UPDATE events SET state = ? WHERE id = ?", [(RUNNING, r[0]) for r in rows]
            )
        return [_event(r) for r in rows]

    def next_due_at(self) -> float | None:
        with self._lock:
            row = self._db.execute(
                "SELECT MIN(next_attempt_at) FROM events WHERE state = ?", (PENDING,)
            ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def done(self, event_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM events WHERE id = ?", (event_id,))

    def retry(self, event_id: int, at: float, attempts: int, error: str | None) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE events SET state = ?, next_attempt_at = ?, attempts = ?, last_error = ?"
                " WHERE id = ?",
                (PENDING, at, attempts, error, event_id),
            )

    def fail(self, event_id: int, attempts: int, condition: str, error: str | None) -> None:
        """Park the event in the dead-letter store."""
        with self._lock:
            self._db.execute(
                "UPDATE events SET state = ?, attempts = ?, condition = ?, last_error = ?"
                " WHERE id = ?",
                (FAILED, attempts, condition, error, event_id),
            )

    def dead_letters(self, function: str) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE {_OF_FUNCTION} AND state = ? ORDER BY id",
                (function, FAILED),
            ).fetchall()
        return [_event(r) for r in rows]

    def replay(
        self, function: str, request_ids: list[str] | None = None, now: float | None = None
    ) -> int:
        """Put dead letters back in the queue (with fresh attempts and age); count them."""
        now = time.time() if now is None else now
        with self._lock:
            query = (
                "UPDATE events SET state = ?, attempts = 0, received_at = ?, next_attempt_at = ?,"
                f" condition = NULL WHERE {_OF_FUNCTION} AND state = ?"
            )
            params: list[Any] = [PENDING, now, now, function, FAILED]
            if request_ids:
                query += f" AND request_id IN ({','.join('?' * len(request_ids))})"
                params += request_ids
            return int(self._db.execute(query, params).rowcount)

    def depth(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM events WHERE state != ?", (FAILED,)
            ).fetchone()
        return int(row[0])

    def drop_function(self, function: str) -> None:
        """The function was deleted: its queued events can never run."""
        with self._lock:
            self._db.execute(
                f"UPDATE events SET state = ?, condition = ? WHERE {_OF_FUNCTION} AND state != ?",
                (FAILED, "FunctionDeleted", function, FAILED),
            )
