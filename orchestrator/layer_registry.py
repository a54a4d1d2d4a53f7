"""Layer versions and their permissions policies in SQLite (WAL), mirrored in memory.

Beside the functions' tables in the same database file, on a connection of its own. Version
numbers are never reused: a layer's last number outlives its versions (AWS publishes version 3
after 1 and 2 were deleted).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .layers import LayerVersion, Policy
from .sqlite_db import open_durable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS layer_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS layer_numbers (
    name TEXT PRIMARY KEY,
    last_version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS layer_policies (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
"""


class StatementExists(Exception):
    pass


class StatementMissing(Exception):
    pass


class PolicyRevisionChanged(Exception):
    pass


class LayerRegistry:
    def __init__(self, path: Path) -> None:
        self._db = open_durable(path, _SCHEMA)
        self._lock = threading.Lock()
        self._versions: dict[str, dict[int, LayerVersion]] = {}
        for name, number, data in self._db.execute(
            "SELECT name, version, data FROM layer_versions"
        ):
            self._versions.setdefault(name, {})[number] = LayerVersion.from_json(json.loads(data))
        self._policies: dict[tuple[str, int], Policy] = {}
        for name, number, data in self._db.execute(
            "SELECT name, version, data FROM layer_policies"
        ):
            stored = json.loads(data)
            self._policies[(name, number)] = Policy(stored["revision_id"], stored["statements"])

    def close(self) -> None:
        self._db.close()

    def names(self) -> list[str]:
        """Layers with at least one version, by name."""
        return sorted(name for name, versions in self._versions.items() if versions)

    def versions(self, name: str) -> list[LayerVersion]:
        """Newest first, as AWS lists them."""
        return [v for _, v in sorted(self._versions.get(name, {}).items(), reverse=True)]

    def version(self, name: str, number: int) -> LayerVersion | None:
        return self._versions.get(name, {}).get(number)

    def every_version(self) -> list[LayerVersion]:
        return [v for versions in self._versions.values() for v in versions.values()]

    def publish(self, name: str, make: Callable[[int], LayerVersion]) -> LayerVersion:
        """Store `make(number)` as the layer's next version."""
        with self._lock:
            row = self._db.execute(
                "SELECT last_version FROM layer_numbers WHERE name = ?", (name,)
            ).fetchone()
            number = (int(row[0]) if row else 0) + 1
            layer = make(number)
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute(
                    "INSERT INTO layer_versions (name, version, data) VALUES (?, ?, ?)",
                    (name, number, json.dumps(layer.to_json())),
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO layer_numbers (name, last_version) VALUES (?, ?)",
                    (name, number),
                )
            self._versions.setdefault(name, {})[number] = layer
            return layer

    def delete(self, name: str, number: int) -> LayerVersion | None:
        with self._lock:
            layer = self._versions.get(name, {}).pop(number, None)
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute(
                    "DELETE FROM layer_versions WHERE name = ? AND version = ?", (name, number)
                )
                self._db.execute(
                    "DELETE FROM layer_policies WHERE name = ? AND version = ?", (name, number)
                )
            self._policies.pop((name, number), None)
            return layer

    def policy(self, name: str, number: int) -> Policy | None:
        return self._policies.get((name, number))

    def add_statement(
        self, name: str, number: int, statement: dict[str, Any], expected_revision: str | None
    ) -> Policy:
        with self._lock:
            current = self._policies.get((name, number)) or Policy("", {})
            self._check_revision(current, expected_revision)
            sid = str(statement["Sid"])
            if sid in current.statements:
                raise StatementExists(sid)
            return self._store(name, number, {**current.statements, sid: statement})

    def remove_statement(
        self, name: str, number: int, sid: str, expected_revision: str | None
    ) -> None:
        with self._lock:
            current = self._policies.get((name, number)) or Policy("", {})
            if sid not in current.statements:
                raise StatementMissing(sid)
            self._check_revision(current, expected_revision)
            remaining = {k: v for k, v in current.statements.items() if k != sid}
            if remaining:
                self._store(name, number, remaining)
                return
            # The last statement gone, so is the policy (GetLayerVersionPolicy: none).
            self._db.execute(
                "DELETE FROM layer_policies WHERE name = ? AND version = ?", (name, number)
            )
            del self._policies[(name, number)]

    @staticmethod
    def _check_revision(current: Policy, expected: str | None) -> None:
        if expected is not None and expected != current.revision_id:
            raise PolicyRevisionChanged(current.revision_id)

    def _store(self, name: str, number: int, statements: dict[str, dict[str, Any]]) -> Policy:
        policy = Policy(str(uuid.uuid4()), statements)
        data = json.dumps({"revision_id": policy.revision_id, "statements": statements})
        self._db.execute(
            "INSERT OR REPLACE INTO layer_policies (name, version, data) VALUES (?, ?, ?)",
            (name, number, data),
        )
        self._policies[(name, number)] = policy
        return policy
