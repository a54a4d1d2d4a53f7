"""Opening the control plane's durable SQLite stores: one way for all of them."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def open_durable(path: Path, schema: str) -> sqlite3.Connection:
    """A connection in autocommit mode (callers open their own transactions), WAL so readers
    never wait for writers, every commit fsynced (a stored function, layer or accepted event
    survives power loss), with `schema` applied. Shared between threads: callers lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(schema)
    return db
