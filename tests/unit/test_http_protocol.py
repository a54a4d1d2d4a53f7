"""The response writer that sends a response's head with its first body part (pure: a fake
transport and a fake response cycle)."""

from __future__ import annotations

from typing import Any

from orchestrator.http_protocol import _HeadWithBody


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


class FakeCycle:
    response_started = False


def writer() -> tuple[_HeadWithBody, FakeTransport, FakeCycle]:
    transport, cycle = FakeTransport(), FakeCycle()
    fake: Any = transport, cycle
    return _HeadWithBody(*fake), transport, cycle


def test_head_and_body_leave_as_one_write() -> None:
    w, transport, cycle = writer()
    cycle.response_started = True
    w.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert transport.writes == []
    w.write(b"{}")
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]


def test_later_chunks_go_out_as_they_come() -> None:
    w, transport, cycle = writer()
    cycle.response_started = True
    for part in (b"head", b"one", b"two", b""):
        w.write(part)
    assert transport.writes == [b"headone", b"two", b""]


def test_what_is_written_before_the_response_starts_is_not_held() -> None:
    w, transport, _ = writer()
    w.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]


def test_a_held_head_is_written_before_the_connection_closes() -> None:
    w, transport, cycle = writer()
    cycle.response_started = True
    w.write(b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
    w.close()
    assert transport.writes == [b"HTTP/1.1 500 Internal Server Error\r\n\r\n"]
    assert transport.closed


def test_everything_else_is_the_transports() -> None:
    w, _, _ = writer()
    assert w.get_extra_info("peername") == "info:peername"
