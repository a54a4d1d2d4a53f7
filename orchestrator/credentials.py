"""The credentials file: who may call the server (users, by access key) and what functions of
each execution role may do (roles, by ARN). TOML, one table per user and per role:

    [users.alice]
    access_key_id = "AKIDALICE0000000000"
    secret_access_key = "..."
    permissions = ["admin"]            # admin | read | deploy:<pattern> | invoke:<pattern>

    [roles."arn:aws:iam::000000000000:role/orders"]
    permissions = ["invoke:orders-*"]

Loaded once at start-up; every mistake is refused with the key it concerns, the line of its
table and what to write instead, so a server never runs with a file it half understood.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .permissions import Permission, parse_permission

# AWS's own shapes: access key ids are 16-128 word characters (AKIA... in practice); user names
# are IAM's (letters, digits and +=,.@_-, at most 64); role ARNs are IAM role ARNs.
_ACCESS_KEY_ID = re.compile(r"[A-Z0-9]{16,128}")
_USER_NAME = re.compile(r"[\w+=,.@-]{1,64}")
_ROLE_ARN = re.compile(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_MIN_SECRET = 16
_USER_KEYS = {"access_key_id", "secret_access_key", "permissions"}
_ROLE_KEYS = {"permissions"}


class CredentialsError(ValueError):
    """The file cannot be used; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class User:
    name: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    permissions: tuple[Permission, ...]

    def arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:user/{self.name}"


@dataclass(frozen=True)
class Role:
    arn: str
    permissions: tuple[Permission, ...]


@dataclass(frozen=True)
class Credentials:
    users: tuple[User, ...]
    roles: tuple[Role, ...]

    def user_by_key(self) -> dict[str, User]:
        return {user.access_key_id: user for user in self.users}

    def role(self, arn: str) -> Role | None:
        return next((role for role in self.roles if role.arn == arn), None)


def load(path: Path) -> Credentials:
    try:
        text = path.read_text()
    except OSError as exc:
        raise CredentialsError(f"cannot read the credentials file {path}: {exc.strerror}") from None
    return parse(text, str(path))


def parse(text: str, source: str = "<credentials>") -> Credentials:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CredentialsError(f"{source}: not valid TOML: {exc}") from None
    problems = _Problems(source, text)
    problems.unknown_keys(document, {"users", "roles"}, "the top level", "")
    users = _users(document.get("users", {}), problems)
    roles = _roles(document.get("roles", {}), problems)
    if not users and not problems.found:
        problems.add(
            "users", "", "no users: add a [users.<name>] table with access_key_id, "
            "secret_access_key and permissions",
        )  # fmt: skip
    problems.raise_any()
    return Credentials(tuple(users), tuple(roles))


def _users(tables: Any, problems: _Problems) -> list[User]:
    if not isinstance(tables, Mapping):
        problems.add("users", "", "must be tables: write [users.<name>]")
        return []
    users: list[User] = []
    seen_keys: dict[str, str] = {}
    for name, table in tables.items():
        where = f"users.{_key(name)}"
        header = f"[{where}]"
        if not isinstance(table, Mapping):
            problems.add(where, header, f"must be a table: write {header}")
            continue
        if not _USER_NAME.fullmatch(name):
            problems.add(
                where, header, "a user name holds letters, digits and +=,.@_- (at most 64)"
            )
        problems.unknown_keys(table, _USER_KEYS, where, header)
        key_id = _required_string(table, "access_key_id", where, header, problems)
        secret = _required_string(table, "secret_access_key", where, header, problems)
        if key_id is not None:
            if not _ACCESS_KEY_ID.fullmatch(key_id):
                problems.add(
                    f"{where}.access_key_id", header,
                    "16 to 128 upper-case letters and digits, e.g. AKIDALICE0000000000",
                )  # fmt: skip
            elif key_id in seen_keys:
                problems.add(
                    f"{where}.access_key_id", header,
                    f"the same key as users.{seen_keys[key_id]}: each user needs its own",
                )  # fmt: skip
            seen_keys.setdefault(key_id, name)
        if secret is not None and len(secret) < _MIN_SECRET:
            problems.add(
                f"{where}.secret_access_key", header,
                f"at least {_MIN_SECRET} characters (AWS's are 40; e.g. `openssl rand -base64 30`)",
            )  # fmt: skip
        permissions = _permissions(table, where, header, problems)
        if key_id is not None and secret is not None and permissions is not None:
            users.append(User(name, key_id, secret, permissions))
    return users


def _roles(tables: Any, problems: _Problems) -> list[Role]:
    if not isinstance(tables, Mapping):
        problems.add("roles", "", 'must be tables: write [roles."arn:aws:iam::<account>:role/<n>"]')
        return []
    roles: list[Role] = []
    for arn, table in tables.items():
        where = f"roles.{_key(arn)}"
        header = f"[{where}]"
        if not isinstance(table, Mapping):
            problems.add(where, header, f"must be a table: write {header}")
            continue
        if not _ROLE_ARN.fullmatch(arn):
            problems.add(
                where, header,
                'the key must be a role ARN, quoted: [roles."arn:aws:iam::000000000000:role/name"]',
            )  # fmt: skip
        problems.unknown_keys(table, _ROLE_KEYS, where, header)
        permissions = _permissions(table, where, header, problems)
        if permissions is not None:
            roles.append(Role(arn, permissions))
    return roles


def _required_string(
    table: Mapping[str, Any], key: str, where: str, header: str, problems: _Problems
) -> str | None:
    value = table.get(key)
    if value is None:
        problems.add(f"{where}.{key}", header, f'missing: add {key} = "..."')
        return None
    if not isinstance(value, str) or not value:
        problems.add(f"{where}.{key}", header, f'must be a non-empty string: {key} = "..."')
        return None
    return value


def _permissions(
    table: Mapping[str, Any], where: str, header: str, problems: _Problems
) -> tuple[Permission, ...] | None:
    value = table.get("permissions")
    if value is None:
        problems.add(f"{where}.permissions", header, 'missing: add permissions = ["read"] (or ...)')
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.add(
            f"{where}.permissions", header, 'must be a list of strings, e.g. ["invoke:orders-*"]'
        )
        return None
    parsed: list[Permission] = []
    for index, item in enumerate(value):
        try:
            parsed.append(parse_permission(item))
        except ValueError as exc:
            problems.add(f"{where}.permissions[{index}]", header, str(exc))
    return tuple(parsed) if len(parsed) == len(value) else None


def _key(name: str) -> str:
    """A table key as TOML writes it (quoted when it is not a bare key)."""
    return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else f'"{name}"'


class _Problems:
    """Every mistake in the file, each with its key and the line of its table, raised at once."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = text.splitlines()
        self.found: list[str] = []

    def add(self, key: str, header: str, message: str) -> None:
        line = self._line_of(header)
        where = f"{self.source}:{line}" if line else self.source
        self.found.append(f"{where}: {key}: {message}")

    def unknown_keys(
        self, table: Mapping[str, Any], known: set[str], where: str, header: str
    ) -> None:
        for key in table:
            if key not in known:
                self.add(
                    f"{where}.{key}" if header else key, header,
                    f"unknown key; expected {', '.join(sorted(known))}",
                )  # fmt: skip

    def raise_any(self) -> None:
        if self.found:
            raise CredentialsError("invalid credentials file:\n  " + "\n  ".join(self.found))

    def _line_of(self, header: str) -> int | None:
        if not header:
            return None
        compact = header.replace(" ", "")
        for number, line in enumerate(self.lines, 1):
            if line.split("#", 1)[0].strip().replace(" ", "") == compact:
                return number
        return None
