"""Lambkin's opt-in log headers (api/log_extensions.py) and how `lambkin logs` prints what they
add (log_follow.py): tables of inputs and what they must give."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.api.log_extensions import InvalidExtension, LogExtensions
from orchestrator.log_follow import format_event

CASES: list[tuple[dict[str, str], LogExtensions]] = [
    ({}, LogExtensions()),
    ({"lambkin-log-origin": "include"}, LogExtensions(origin=True)),
    ({"lambkin-log-origin": "INCLUDE "}, LogExtensions(origin=True)),
    ({"lambkin-log-origin": "yes"}, LogExtensions()),
    ({"lambkin-log-node": "include"}, LogExtensions(node=True)),
    ({"lambkin-log-node": "worker-1"}, LogExtensions()),  # a name is the filter's, not this
    ({"lambkin-log-node-filter": "worker-1"}, LogExtensions(only_node="worker-1")),
    ({"lambkin-log-node-filter": " n.example_2 "}, LogExtensions(only_node="n.example_2")),
    ({"lambkin-log-node-filter": ""}, LogExtensions()),
    (
        {"lambkin-log-node": "include", "lambkin-log-node-filter": "a", "lambkin-log-origin": ""},
        LogExtensions(node=True, only_node="a"),
    ),
]


@pytest.mark.parametrize(("headers", "expected"), CASES)
def test_headers_to_extensions(headers: dict[str, str], expected: LogExtensions) -> None:
    assert LogExtensions.of(headers) == expected


@pytest.mark.parametrize(
    "bad", ["a b", "-a", "a-", ".a", "a/b", "../x", "x" * 255, "wörker", "a\tb", "a;b", "*"]
)
def test_a_node_filter_that_cannot_be_a_hostname_is_refused(bad: str) -> None:
    with pytest.raises(InvalidExtension, match="hostname"):
        LogExtensions.of({"lambkin-log-node-filter": bad})


EVENT: dict[str, Any] = {
    "timestamp": 1_764_547_200_123,  # 2025-12-01 00:00:00.123 UTC
    "logStreamName": "2025/12/01/[$LATEST]0123456789abcdef",
    "message": "hello",
}


@pytest.mark.parametrize(
    ("extra", "line"),
    [
        ({}, "00:00:00.123 01234567 function hello"),
        ({"lambkinOrigin": "platform"}, "00:00:00.123 01234567 platform hello"),
        ({"lambkinNode": "worker-2"}, "00:00:00.123 worker-2/01234567 function hello"),
        ({"lambkinNode": ""}, "00:00:00.123 01234567 function hello"),
    ],
)
def test_a_printed_line_names_its_node_when_there_is_one(extra: dict[str, Any], line: str) -> None:
    assert format_event(EVENT | extra) == line
