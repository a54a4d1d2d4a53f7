"""CloudWatch's JSON filter patterns, one row per form: what matches, and what is refused."""

from __future__ import annotations

import json

import pytest

from orchestrator.json_filter import INVALID, MUST_END, InvalidJsonFilter, JsonFilter
from orchestrator.logstore import FilterPattern, InvalidFilterPattern

# A Powertools-style record, as `Logger` prints it.
EVENT = json.dumps(
    {
        "level": "ERROR",
        "location": "handler:12",
        "message": "payment failed",
        "timestamp": "2026-12-01 10:00:00,123+0000",
        "service": "payments",
        "cold_start": True,
        "warm": False,
        "function_memory_size": 128,
        "duration": 12.5,
        "sampling_rate": 0.1,
        "xray_trace_id": None,
        "ip": "10.0.3.7",
        "user": {"id": 2, "email": "jane@example.com", "tags": ["a", "b"]},
        "users": [{"email": "John.Doe@example.com"}, {"email": "x@y"}],
        "numbers": [0.001, 1000],
        "answer": "42",
    }
)

MATCHES = [
    ('{ $.level = "ERROR" }', True),
    ("{ $.level = ERROR }", True),  # unquoted strings
    ('{ $.level = "error" }', False),  # case-sensitive
    ('{$.level="ERROR"}', True),  # no spaces needed
    ('{ $.level != "INFO" }', True),
    ('{ $.level != "ERROR" }', False),
    ('{ $.level = "ERR*" }', True),  # wildcards
    ('{ $.level = "*RO*" }', True),
    ('{ $.level = "ERR" }', False),  # whole value, not a substring
    ('{ $.message = "payment*" }', True),
    ("{ $.ip != 10.0.* }", False),
    ("{ $.ip != 192.168.* }", True),
    ('{ $.level = "*" }', True),
    ('{ $.missing = "*" }', False),
    ('{ $.missing != "x" }', False),  # a comparison needs the field
    ("{ $.answer = 42 }", False),  # a number never equals a string value
    ('{ $.answer = "42" }', True),
    ('{ $.function_memory_size = "128" }', False),  # nor a string a number value
    ("{ $.cold_start IS TRUE }", True),
    ("{ $.cold_start IS FALSE }", False),
    ("{ $.warm IS FALSE }", True),
    ("{ $.warm IS TRUE }", False),
    ("{ $.cold_start is true }", True),
    ("{ $.xray_trace_id IS NULL }", True),
    ("{ $.level IS NULL }", False),
    ("{ $.missing IS NULL }", False),
    ("{ $.missing NOT EXISTS }", True),
    ("{ $.xray_trace_id NOT EXISTS }", False),  # null is there
    ("{ $.user.nope NOT EXISTS }", True),
    ("{ $.function_memory_size = 128 }", True),
    ("{ $.function_memory_size = 128.0 }", True),
    ("{ $.function_memory_size != 128 }", False),
    ("{ $.function_memory_size != 256 }", True),
    ("{ $.duration > 12 }", True),
    ("{ $.duration > 12.5 }", False),
    ("{ $.duration >= 12.5 }", True),
    ("{ $.duration < 13 }", True),
    ("{ $.duration <= 12.4 }", False),
    ("{ $.duration < -1 }", False),
    ("{ $.cold_start = 1 }", False),  # a boolean is not a number
    ("{ $.level > 1 }", False),
    ("{ $.numbers[0] = 1e-3 }", True),
    ("{ $.numbers[1] = 1e+3 }", True),
    ("{ $.numbers[1] != 1E3 }", False),
    ("{ $.numbers[2] NOT EXISTS }", True),
    ('{ $.user.email = "jane@example.com" }', True),
    ('{ $.user.tags[1] = "b" }', True),
    ('{ $.users[0].email = "John.Doe@example.com" }', True),
    ('{ $.users[1].email = "John*" }', False),
    ("{ $.user.id = 2 && $.duration > 10 }", True),
    ("{ $.user.id = 2 && $.duration > 20 }", False),
    ("{ $.user.id = 3 || $.duration > 10 }", True),
    ("{ $.user.id = 3 || $.duration > 20 }", False),
    ('{ ($.user.id = 2 && $.users[0].email = "nobody") || $.user.tags[0] = "a" }', True),
    ('{ $.user.id = 3 && ($.level = "ERROR" || $.warm IS FALSE) }', False),
    ('{ $.user.id = 3 && $.level = "ERROR" || $.warm IS FALSE }', True),  # && binds tighter
    ('{ ((($.level = "ERROR"))) }', True),
    ('{ $.message = "payment failed" }', True),
    ('{ $.location = "handler:12" }', True),
]


@pytest.mark.parametrize(("pattern", "expected"), MATCHES)
def test_json_pattern_matches(pattern: str, expected: bool) -> None:
    assert JsonFilter.parse(pattern).matches(EVENT) is expected


@pytest.mark.parametrize(
    "message",
    [
        "START RequestId: 1 Version: $LATEST",
        '2026-12-01T10:00:00.000Z\tid\tERROR\t{"level": "ERROR"}',  # prefixed: not JSON
        '["level", "ERROR"]',
        '{"level": "ERROR"',
        "[" * 100_000,
        "{" + '"a":{' * 100_000,
        "",
    ],
)
def test_non_json_events_never_match(message: str) -> None:
    for pattern in ('{ $.level = "ERROR" }', "{ $.level NOT EXISTS }", '{ $.a = "*" }'):
        assert JsonFilter.parse(pattern).matches(message) is False


REFUSED = [
    ('{ $.level = "ERROR"', MUST_END),
    ("{ $.level = ERROR ", MUST_END),
    ("{}", INVALID),
    ("{ }", INVALID),
    ("{ level = ERROR }", INVALID),  # no selector
    ("{ $ = 1 }", INVALID),
    ("{ $. = 1 }", INVALID),
    ("{ $.a[x] = 1 }", INVALID),
    ("{ $.a[-1] = 1 }", INVALID),
    ("{ $.a[0 = 1 }", INVALID),
    ("{ $.a }", INVALID),  # no condition
    ("{ $.a = }", INVALID),
    ("{ $.a == 1 }", INVALID),
    ("{ $.a ! 1 }", INVALID),
    ('{ $.a > "x" }', INVALID),  # order needs a number
    ("{ $.a < abc }", INVALID),
    ("{ $.a IS }", INVALID),
    ("{ $.a IS MAYBE }", INVALID),
    ("{ $.a NOT THERE }", INVALID),
    ("{ $.a EXISTS }", INVALID),
    ('{ $.a = "unterminated }', INVALID),
    ("{ $.a = 1 && }", INVALID),
    ("{ && $.a = 1 }", INVALID),
    ("{ $.a = 1 $.b = 2 }", INVALID),
    ("{ $.a = 1 & $.b = 2 }", INVALID),
    ("{ $.a = 1 | $.b = 2 }", INVALID),
    ("{ ($.a = 1 }", INVALID),
    ("{ $.a = 1) }", INVALID),
    ("{ () }", INVALID),
    ("{ { $.a = 1 } }", INVALID),
    ("{ $.a = 1e999 }", INVALID),
]


@pytest.mark.parametrize(("pattern", "message"), REFUSED)
def test_malformed_patterns_get_cloudwatchs_answer(pattern: str, message: str) -> None:
    with pytest.raises(InvalidJsonFilter) as raised:
        JsonFilter.parse(pattern)
    assert str(raised.value) == message
    with pytest.raises(InvalidFilterPattern, match=r"^" + message.replace("{", r"\{")):
        FilterPattern.parse(pattern)


def test_filter_pattern_takes_json_and_keeps_terms() -> None:
    assert FilterPattern.parse('{ $.level = "ERROR" }').json == JsonFilter.parse(
        '{$.level = "ERROR"}'
    )
    assert FilterPattern.parse("ERROR").json is None
