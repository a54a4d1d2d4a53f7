"""The audit trail: every call that changes something (who, which action, on what, when, with
what result), one JSON line each in `<data_dir>/audit.jsonl`, read back by `lambkin audit`.

A line is appended with one `write` on a file opened with O_APPEND: the kernel places each
write whole at the end, so lines never interleave, and the event loop waits only for a copy into
the page cache (no fsync: the trail records what happened, it does not make it durable).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

FILE_NAME = "audit.jsonl"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AuditRecord:
    time: float  # seconds since the epoch
    principal: str  # the user's name, or "anonymous" on a server without credentials
    action: str  # lambda:CreateFunction, logs:DeleteLogGroup, ...
    resource: str  # the ARN acted on, or "*"
    status: int  # the HTTP status answered
    error: str | None = None  # the refusal's code when the access layer refused
    request_id: str = ""
    source: str = ""  # the caller's address
    # The access key the request was signed with, also when the signature was refused (who
    # tried, as far as the request says).
    access_key_id: str = ""

    def to_line(self) -> bytes:
        return (json.dumps(asdict(self), separators=(",", ":")) + "\n").encode()

    @classmethod
    def from_line(cls, line: str) -> AuditRecord:
        fields = json.loads(line)
        return cls(**{key: fields[key] for key in cls.__dataclass_fields__ if key in fields})


class AuditTrail:
    """The append side, owned by the server."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def append(self, record: AuditRecord) -> None:
        if self._fd < 0:  # closed at shutdown: a request outliving the server's grace period
            log.warning("audit trail closed; not recorded: %s", record.to_line().decode().strip())
            return
        os.write(self._fd, record.to_line())

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass(frozen=True)
class AuditFilter:
    since: float | None = None  # epoch seconds
    principal: str | None = None
    action: str | None = None  # exact (lambda:CreateFunction) or the operation (CreateFunction)

    def matches(self, record: AuditRecord) -> bool:
        if self.since is not None and record.time < self.since:
            return False
        if self.principal is not None and record.principal != self.principal:
            return False
        if self.action is not None and self.action not in (
            record.action,
            record.action.split(":", 1)[-1],
        ):
            return False
        return True


def read(path: Path) -> Iterator[AuditRecord]:
    """Every record of the trail, oldest first; a torn last line (a crash mid-write) is skipped."""
    if not path.exists():
        return
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                yield AuditRecord.from_line(line)
            except (ValueError, TypeError, KeyError):
                continue


def select(records: Iterable[AuditRecord], selection: AuditFilter) -> list[AuditRecord]:
    return [record for record in records if selection.matches(record)]


_AGO = re.compile(r"(\d+)([smhdw])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str, now: float) -> float:
    """`--since`: a span back from `now` (`30s`, `10m`, `2h`, `1d`, `1w`) or an ISO 8601 time
    (`2026-12-02T14:00:00Z`, UTC unless it says otherwise); epoch seconds."""
    ago = _AGO.fullmatch(text.strip())
    if ago:
        return now - int(ago[1]) * _UNIT_S[ago[2]]
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"--since: expected a span such as 10m, 2h, 1d or an ISO time such as "
            f"2026-12-02T14:00:00Z, not {text!r}"
        ) from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
