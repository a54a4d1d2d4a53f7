"""What a principal may do: permissions as the credentials file writes them, and the one pure
decision `allows(permissions, kind, function)`.

A permission is one of `admin` (everything), `read` (every read-only action, on every function),
`deploy:<pattern>` (create, update, configure, delete the functions whose names match, and
publish and delete the layers whose names match) or
`invoke:<pattern>` (invoke them, replay their failed events). Patterns are function-name globs
(fnmatch, case-sensitive: `orders-*`, `report-?`, `*`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase


class ActionKind(StrEnum):
    """What an action does, which decides the permission it needs."""

    READ = "read"
    DEPLOY = "deploy"
    INVOKE = "invoke"
    ADMIN = "admin"  # only `admin` grants it (actions on no function, or unknown ones)


class Grant(StrEnum):
    ADMIN = "admin"
    READ = "read"
    DEPLOY = "deploy"
    INVOKE = "invoke"


# What a pattern may hold: a function name's characters and the glob's own (`*`, `?`, `[...]`).
_PATTERN = re.compile(r"[a-zA-Z0-9\-_*?\[\]!]{1,140}")
_PATTERNED = (Grant.DEPLOY, Grant.INVOKE)


@dataclass(frozen=True)
class Permission:
    grant: Grant
    pattern: str | None = None  # deploy and invoke only

    def __str__(self) -> str:
        return f"{self.grant}:{self.pattern}" if self.pattern is not None else str(self.grant)


def parse_permission(text: str) -> Permission:
    """One permission from its written form; ValueError says what is wrong and what is allowed."""
    grant_text, colon, pattern = text.partition(":")
    try:
        grant = Grant(grant_text)
    except ValueError:
        raise ValueError(
            f"unknown permission {text!r}: write admin, read, deploy:<pattern> or invoke:<pattern>"
        ) from None
    if grant in _PATTERNED:
        if not colon or not pattern:
            raise ValueError(
                f"{text!r} needs a function-name pattern: {grant}:<pattern>, e.g. {grant}:orders-*"
            )
        if not _PATTERN.fullmatch(pattern):
            raise ValueError(
                f"{text!r}: the pattern may hold only a function name's characters "
                "(letters, digits, - and _) and the glob's * ? [ ] !"
            )
        return Permission(grant, pattern)
    if colon:
        raise ValueError(f"{text!r}: {grant} takes no pattern; write just {grant}")
    return Permission(grant)


def allows(permissions: Iterable[Permission], kind: ActionKind, function: str | None) -> bool:
    """Whether any of `permissions` grants an action of `kind` on `function` (None: the action
    names no one function, e.g. ListFunctions, or its resource is not a function's)."""
    for permission in permissions:
        if permission.grant is Grant.ADMIN:
            return True
        if permission.grant is Grant.READ and kind is ActionKind.READ:
            return True
        if (
            function is not None
            and permission.pattern is not None
            and kind.value == permission.grant.value
            and fnmatchcase(function, permission.pattern)
        ):
            return True
    return False
