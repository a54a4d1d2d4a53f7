"""The audit trail's file: appended whole lines, read back, filtered (tables), --since parsed."""

from __future__ import annotations

import os
import stat
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from orchestrator.audit import AuditFilter, AuditRecord, AuditTrail, parse_since, read, select

T0 = datetime(2026, 12, 2, 14, 0, tzinfo=UTC).timestamp()


def record(
    at: float = T0, principal: str = "alice", action: str = "lambda:CreateFunction"
) -> AuditRecord:
    return AuditRecord(
        time=at, principal=principal, action=action,
        resource="arn:aws:lambda:us-east-1:000000000000:function:orders-a", status=201,
        request_id="r-1", source="127.0.0.1",
    )  # fmt: skip


def test_records_round_trip_through_the_file(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "deep" / "audit.jsonl")
    written = [record(), record(T0 + 1, "ci", "lambda:DeleteFunction")]
    for r in written:
        trail.append(r)
    trail.close()
    assert list(read(tmp_path / "deep" / "audit.jsonl")) == written
    assert stat.S_IMODE(os.stat(tmp_path / "deep" / "audit.jsonl").st_mode) == 0o600


def test_appends_from_many_threads_stay_whole_lines(tmp_path: Path) -> None:
    trail = AuditTrail(tmp_path / "audit.jsonl")

    def append_many(who: str) -> None:
        for i in range(200):
            trail.append(record(T0 + i, who))

    threads = [threading.Thread(target=append_many, args=(f"user{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    trail.close()
    records = list(read(tmp_path / "audit.jsonl"))
    assert len(records) == 1600
    assert {r.principal for r in records} == {f"user{n}" for n in range(8)}


def test_a_torn_last_line_and_an_absent_file_are_no_error(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    assert list(read(path)) == []
    path.write_bytes(record().to_line() + b'{"time": 1, "princ')
    assert list(read(path)) == [record()]


def test_a_trail_reopened_appends_after_what_it_held(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for at in (T0, T0 + 1):
        trail = AuditTrail(path)
        trail.append(record(at))
        trail.close()
    assert [r.time for r in read(path)] == [T0, T0 + 1]


RECORDS = [
    record(T0, "alice", "lambda:CreateFunction"),
    record(T0 + 60, "ci", "lambda:UpdateFunctionCode"),
    record(T0 + 120, "ci", "lambda:DeleteFunction"),
    record(T0 + 180, "alice", "logs:DeleteLogGroup"),
]


@pytest.mark.parametrize(
    ("selection", "indexes"),
    [
        (AuditFilter(), [0, 1, 2, 3]),
        (AuditFilter(since=T0 + 60), [1, 2, 3]),
        (AuditFilter(since=T0 + 61), [2, 3]),
        (AuditFilter(principal="ci"), [1, 2]),
        (AuditFilter(principal="nobody"), []),
        (AuditFilter(action="lambda:DeleteFunction"), [2]),
        (AuditFilter(action="DeleteLogGroup"), [3]),
        (AuditFilter(action="Delete"), []),  # exact names only
        (AuditFilter(since=T0 + 60, principal="alice"), [3]),
        (AuditFilter(since=T0, principal="ci", action="UpdateFunctionCode"), [1]),
    ],
)
def test_filters(selection: AuditFilter, indexes: list[int]) -> None:
    assert select(RECORDS, selection) == [RECORDS[i] for i in indexes]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", T0 - 30),
        ("10m", T0 - 600),
        ("2h", T0 - 7200),
        ("1d", T0 - 86400),
        ("1w", T0 - 604800),
        ("2026-12-02T13:00:00Z", T0 - 3600),
        ("2026-12-02T13:00:00", T0 - 3600),  # UTC unless it says otherwise
        ("2026-12-02T15:00:00+02:00", T0 - 3600),
        ("2026-12-02", T0 - 14 * 3600),
    ],
)
def test_since(text: str, expected: float) -> None:
    assert parse_since(text, T0) == expected


@pytest.mark.parametrize("text", ["yesterday", "10", "-5m", "10 minutes"])
def test_since_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError, match="expected a span such as 10m"):
        parse_since(text, T0)


def test_a_record_after_close_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trail = AuditTrail(tmp_path / "audit.jsonl")
    trail.close()
    trail.append(record())
    assert "audit trail closed; not recorded" in caplog.text
    assert list(read(tmp_path / "audit.jsonl")) == []
