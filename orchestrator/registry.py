"""Function records in SQLite (WAL), mirrored in memory so invocations never wait on the disk."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .aliases import Alias, is_alias_name, pick_version
from .arns import LATEST
from .function_config import FunctionConfig
from .sqlite_db import open_durable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS functions (
    name TEXT PRIMARY KEY,
    config TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS function_settings (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE TABLE IF NOT EXISTS function_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    config TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS function_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (name, alias)
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


# The highest version number a function has published (a function setting).
_LAST_VERSION = "last_version"


class FunctionExists(Exception):
    pass


class FunctionMissing(Exception):
    pass


class Registry:
    """Stores FunctionConfig records. Reads come from memory; writes go to SQLite first."""

    def __init__(self, path: Path) -> None:
        self._db = open_durable(path, _SCHEMA)
        self._lock = threading.Lock()
        self._functions: dict[str, FunctionConfig] = {
            name: FunctionConfig.from_json(json.loads(config))
            for name, config in self._db.execute("SELECT name, config FROM functions")
        }
        # Published versions: immutable snapshots, by function and number.
        self._versions: dict[str, dict[int, FunctionConfig]] = {}
        for name, number, config in self._db.execute(
            "SELECT name, version, config FROM function_versions"
        ):
            self._versions.setdefault(name, {})[number] = FunctionConfig.from_json(
                json.loads(config)
            )
        self._aliases: dict[str, dict[str, Alias]] = {}
        for name, alias, data in self._db.execute("SELECT name, alias, data FROM function_aliases"):
            self._aliases.setdefault(name, {})[alias] = Alias.from_json(json.loads(data))
        # Settings that live beside a function but are not part of its revision (changing them
        # must not recycle instances): reserved concurrency, provisioned concurrency.
        self._settings: dict[tuple[str, str], Any] = {
            (name, key): json.loads(value)
            for name, key, value in self._db.execute(
                "SELECT name, key, value FROM function_settings"
            )
        }

    def close(self) -> None:
        self._db.close()

    def server_id(self) -> str:
        """A stable id for this data directory, used to label the instances it owns."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = 'server_id'").fetchone()
            if row:
                return str(row[0])
            value = uuid.uuid4().hex[:12]
            self._db.execute("INSERT INTO meta (key, value) VALUES ('server_id', ?)", (value,))
            return value

    def get(self, name: str) -> FunctionConfig | None:
        return self._functions.get(name)

    def names(self) -> list[str]:
        return sorted(self._functions)

    def all(self) -> list[FunctionConfig]:
        return [self._functions[name] for name in self.names()]

    def code_in_use(self) -> set[str]:
        """The code of every function and of every published version, and of their layers."""
        return {
            sha
            for config in self.every_config()
            for sha in (config.code_sha256_hex, *(layer.code_sha256_hex for layer in config.layers))
        }

    def every_config(self) -> list[FunctionConfig]:
        """Every function's $LATEST and every published version."""
        return [
            *self._functions.values(),
            *(v for vs in self._versions.values() for v in vs.values()),
        ]

    def resolve(
        self, name: str, qualifier: str | None, draw: float | None = None
    ) -> FunctionConfig | None:
        """What a qualifier names: $LATEST (None or "$LATEST"), a published version, or an
        alias's version (its FunctionVersion; with a uniform `draw`, the one its weights pick
        for an invocation). None when that does not exist."""
        if qualifier is not None and is_alias_name(qualifier):
            alias = self.alias(name, qualifier)
            if alias is None:
                return None
            qualifier = alias.function_version if draw is None else pick_version(alias, draw)
        if qualifier is None or qualifier == LATEST:
            return self._functions.get(name)
        return self.version(name, int(qualifier)) if qualifier.isdigit() else None

    def versions(self, name: str) -> list[FunctionConfig]:
        """The function's published versions, oldest first."""
        return [v for _, v in sorted(self._versions.get(name, {}).items())]

    def version(self, name: str, number: int) -> FunctionConfig | None:
        return self._versions.get(name, {}).get(number)

    def publish(self, name: str, snapshot: Callable[[str], FunctionConfig]) -> FunctionConfig:
        """Store `snapshot(number)` as the function's next version. Numbers are never reused
        while the function exists, even after a version is deleted (AWS's rule)."""
        with self._lock:
            if name not in self._functions:
                raise FunctionMissing(name)
            number = int(self._settings.get((name, _LAST_VERSION), 0)) + 1
            config = snapshot(str(number))
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute(
                    "INSERT INTO function_versions (name, version, config) VALUES (?, ?, ?)",
                    (name, number, json.dumps(config.to_json())),
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO function_settings (name, key, value) VALUES (?, ?, ?)",
                    (name, _LAST_VERSION, json.dumps(number)),
                )
            self._versions.setdefault(name, {})[number] = config
            self._settings[(name, _LAST_VERSION)] = number
            return config

    def aliases(self, name: str) -> list[Alias]:
        return [a for _, a in sorted(self._aliases.get(name, {}).items())]

    def alias(self, name: str, alias: str) -> Alias | None:
        return self._aliases.get(name, {}).get(alias)

    def put_alias(self, name: str, alias: Alias, expected_revision: str | None) -> None:
        """Create (`expected_revision` None: it must not exist) or replace an alias (only if
        it still has `expected_revision`)."""
        with self._lock:
            if name not in self._functions:
                raise FunctionMissing(name)
            current = self._aliases.get(name, {}).get(alias.name)
            if expected_revision is None and current is not None:
                raise FunctionExists(f"{name}:{alias.name}")
            if expected_revision is not None and (
                current is None or current.revision_id != expected_revision
            ):
                raise RevisionChanged(current.revision_id if current else "")
            self._db.execute(
                "INSERT OR REPLACE INTO function_aliases (name, alias, data) VALUES (?, ?, ?)",
                (name, alias.name, json.dumps(alias.to_json())),
            )
            self._aliases.setdefault(name, {})[alias.name] = alias

    def delete_alias(self, name: str, alias: str) -> None:
        with self._lock:
            self._db.execute(
                "DELETE FROM function_aliases WHERE name = ? AND alias = ?", (name, alias)
            )
            self._aliases.get(name, {}).pop(alias, None)

    def delete_version(self, name: str, number: int) -> FunctionConfig:
        with self._lock:
            config = self._versions.get(name, {}).get(number)
            if config is None:
                raise FunctionMissing(f"{name}:{number}")
            self._db.execute(
                "DELETE FROM function_versions WHERE name = ? AND version = ?", (name, number)
            )
            del self._versions[name][number]
            return config

    def create(self, config: FunctionConfig) -> None:
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO functions (name, config) VALUES (?, ?)",
                    (config.name, json.dumps(config.to_json())),
                )
            except sqlite3.IntegrityError:
                raise FunctionExists(config.name) from None
            self._functions[config.name] = config

    def replace(self, config: FunctionConfig, expected_revision: str) -> None:
        """Store a new revision, only if the stored one is still `expected_revision`."""
        with self._lock:
            current = self._functions.get(config.name)
            if current is None:
                raise FunctionMissing(config.name)
            if current.revision_id != expected_revision:
                raise RevisionChanged(current.revision_id)
            self._db.execute(
                "UPDATE functions SET config = ? WHERE name = ?",
                (json.dumps(config.to_json()), config.name),
            )
            self._functions[config.name] = config

    def delete(self, name: str) -> FunctionConfig:
        with self._lock:
            config = self._functions.get(name)
            if config is None:
                raise FunctionMissing(name)
            with self._db:
                self._db.execute("BEGIN")
                self._db.execute("DELETE FROM functions WHERE name = ?", (name,))
                self._db.execute("DELETE FROM function_settings WHERE name = ?", (name,))
                self._db.execute("DELETE FROM function_versions WHERE name = ?", (name,))
                self._db.execute("DELETE FROM function_aliases WHERE name = ?", (name,))
            del self._functions[name]
            self._versions.pop(name, None)
            self._aliases.pop(name, None)
            for key in [k for k in self._settings if k[0] == name]:
                del self._settings[key]
            return config

    def setting(self, name: str, key: str) -> Any:
        return self._settings.get((name, key))

    def settings_of(self, name: str) -> dict[str, Any]:
        """Every setting of one function, by key."""
        return {k: value for (n, k), value in self._settings.items() if n == name}

    def settings_with_prefix(self, prefix: str) -> dict[tuple[str, str], Any]:
        """Every setting whose key starts with `prefix`, by (function, key)."""
        return {k: value for k, value in self._settings.items() if k[1].startswith(prefix)}

    def settings_named(self, key: str) -> dict[str, Any]:
        return {name: value for (name, k), value in self._settings.items() if k == key}

    def set_setting(self, name: str, key: str, value: Any) -> None:
        """Store (or with None, remove) a per-function setting of a function that exists."""
        with self._lock:
            if name not in self._functions:
                raise FunctionMissing(name)
            if value is None:
                self._db.execute(
                    "DELETE FROM function_settings WHERE name = ? AND key = ?", (name, key)
                )
                self._settings.pop((name, key), None)
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO function_settings (name, key, value) VALUES (?, ?, ?)",
                    (name, key, json.dumps(value)),
                )
                self._settings[(name, key)] = value


class RevisionChanged(Exception):
    pass
