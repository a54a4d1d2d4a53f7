"""The console's pure pieces, as tables: sessions (expiry, bound, CSRF), the REPORT reader, the
environment editor's parser and the list's search."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.console import sessions
from orchestrator.console.functions_pages import _matches, _parse_environment
from orchestrator.console.report import parse_report
from orchestrator.console.sessions import Keys, SessionStore, csrf_matches
from orchestrator.console.web import ConsoleState
from orchestrator.credentials import User


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_is_found_until_it_expires_then_forgotten() -> None:
    clock = Clock()
    store = SessionStore(clock)
    opened = store.open("alice", Keys("AKID", "secret"))
    assert store.find(opened.id) is opened
    clock.now += sessions.SESSION_LIFETIME_S - 1
    assert store.find(opened.id) is opened
    clock.now += 1
    assert store.find(opened.id) is None
    clock.now -= 10  # gone for good, even if the clock went back
    assert store.find(opened.id) is None


@pytest.mark.parametrize("presented", [None, "", "x", "wrong-token"])
def test_csrf_refuses_anything_but_the_sessions_token(presented: str | None) -> None:
    session = SessionStore().open("anonymous", None)
    assert not csrf_matches(session, presented)
    assert csrf_matches(session, session.csrf_token)


def test_sessions_are_bounded_oldest_first_and_ids_unguessable() -> None:
    store = SessionStore()
    first = store.open("a", None)
    rest = [store.open("a", None) for _ in range(sessions.MAX_SESSIONS)]
    assert store.find(first.id) is None and store.find(rest[-1].id) is rest[-1]
    assert len({s.id for s in rest}) == len(rest) and all(len(s.id) >= 40 for s in rest)
    assert first.csrf_token != first.id
    store.close(rest[-1].id)
    assert store.find(rest[-1].id) is None
    assert store.find(None) is None and store.find("") is None


def test_keys_never_appear_in_a_sessions_repr() -> None:
    session = SessionStore().open("alice", Keys("AKIDALICE", "the-secret"))
    assert "the-secret" not in repr(session) and session.csrf_token not in repr(session)


USER = User("alice", "AKIDALICE0000000000", "alice-secret-0123456789", ())


@pytest.mark.parametrize(
    ("key", "secret", "found"),
    [
        ("AKIDALICE0000000000", "alice-secret-0123456789", True),
        ("AKIDALICE0000000000", "alice-secret-012345678", False),
        ("AKIDALICE0000000000", "", False),
        ("AKIDBOB000000000000", "alice-secret-0123456789", False),
    ],
)
def test_sign_in_keys(key: str, secret: str, found: bool) -> None:
    state = ConsoleState(SessionStore(), {USER.access_key_id: USER}, "us-east-1", False)
    assert (state.user_for(key, secret) is USER) is found
    open_server = ConsoleState(SessionStore(), None, "us-east-1", False)
    assert open_server.user_for(key, secret) is None


REPORT = (
    "START RequestId: r1 Version: $LATEST\nhello\nEND RequestId: r1\n"
    "REPORT RequestId: r1\tDuration: 2.25 ms\tBilled Duration: 3 ms\tMemory Size: 128 MB\t"
    "Max Memory Used: 41 MB\tInit Duration: 98.10 ms\t\n"
)


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        (
            REPORT,
            {
                "request_id": "r1",
                "duration": "2.25 ms",
                "billed_duration": "3 ms",
                "memory_size": "128 MB",
                "max_memory_used": "41 MB",
                "init_duration": "98.10 ms",
            },
        ),
        ("", {}),
        ("no report here\n", {}),
        (
            "REPORT RequestId: r2\tDuration: 1.00 ms\tBill",
            {"request_id": "r2", "duration": "1.00 ms"},
        ),
        (
            REPORT + REPORT.replace("r1", "r9"),
            {
                **{"request_id": "r9"},
                **{
                    "duration": "2.25 ms",
                    "billed_duration": "3 ms",
                    "memory_size": "128 MB",
                    "max_memory_used": "41 MB",
                    "init_duration": "98.10 ms",
                },
            },
        ),
    ],
)
def test_parse_report(tail: str, expected: dict[str, str]) -> None:
    assert parse_report(tail) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", None),
        ("  \n ", None),
        ("A=1\nB=two words\n", {"A": "1", "B": "two words"}),
        ("A=x=y", {"A": "x=y"}),
        ("A=\n\nB=2", {"A": "", "B": "2"}),
        ("A=1\njust a line", "Line 2 of the environment is not KEY=value: write one per line."),
        ("=1", "Line 1 of the environment is not KEY=value: write one per line."),
    ],
)
def test_parse_environment(text: str, expected: Any) -> None:
    assert _parse_environment(text) == expected


FUNCTION = {"FunctionName": "orders-api", "Runtime": "python3.11", "Description": "Takes orders"}


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("", True),
        ("orders", True),
        ("ORDERS python", True),
        ("takes", True),
        ("node", False),
        ("orders node", False),
    ],
)
def test_search(query: str, found: bool) -> None:
    assert _matches(FUNCTION, query) is found


def test_sign_in_throttle_bounds_failures_per_address_in_a_window() -> None:
    from orchestrator.console import sign_in_throttle as throttle_rules
    from orchestrator.console.sign_in_throttle import SignInThrottle

    clock = Clock()
    throttle = SignInThrottle(clock)
    for _ in range(throttle_rules.MAX_FAILURES - 1):
        throttle.failed("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == 0  # one try left
    throttle.failed("10.0.0.1")
    assert throttle.wait_s("10.0.0.1") == pytest.approx(throttle_rules.WINDOW_S)
    assert throttle.wait_s("10.0.0.2") == 0  # another address is not locked out
    clock.now += 100
    assert throttle.wait_s("10.0.0.1") == pytest.approx(throttle_rules.WINDOW_S - 100)
    clock.now += throttle_rules.WINDOW_S - 100
    assert throttle.wait_s("10.0.0.1") == 0  # the failures left the window
    throttle.failed("10.0.0.3")
    throttle.succeeded("10.0.0.3")
    for _ in range(throttle_rules.MAX_FAILURES - 1):
        throttle.failed("10.0.0.3")
    assert throttle.wait_s("10.0.0.3") == 0  # a success forgets earlier failures
