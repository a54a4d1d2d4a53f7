"""The event stream encoder, decoded by botocore's own parser and its Lambda response parser."""

from __future__ import annotations

import io

import botocore.session
import pytest
from botocore.eventstream import ChecksumMismatch, EventStream, EventStreamBuffer
from botocore.parsers import EventStreamJSONParser

from orchestrator import event_stream


def _decode(data: bytes) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    buffer.add_data(data)
    return [(message.headers, message.payload) for message in buffer]


def test_a_message_round_trips_through_botocore() -> None:
    raw = event_stream.message({"a": "b", ":event-type": "X", "ünï": "cødé"}, b"\x00payload\xff")
    [(headers, payload)] = _decode(raw)
    assert headers == {"a": "b", ":event-type": "X", "ünï": "cødé"}
    assert payload == b"\x00payload\xff"


def test_empty_payload_and_no_headers() -> None:
    assert _decode(event_stream.message({}, b"")) == [({}, b"")]


def test_the_crcs_are_checked_by_botocore() -> None:
    raw = bytearray(event_stream.message({"k": "v"}, b"data"))
    raw[-6] ^= 1  # a payload byte
    buffer = EventStreamBuffer()
    buffer.add_data(bytes(raw))
    with pytest.raises(ChecksumMismatch):
        list(buffer)


def test_large_data_is_split_into_chunks() -> None:
    data = bytes(range(256)) * 1000
    events = event_stream.payload_chunks(data)
    assert len(events) == 4
    assert b"".join(p for e in events for _, p in _decode(e)) == data
    assert event_stream.payload_chunks(b"") == []


def test_lambda_events_as_boto3_reads_them() -> None:
    model = botocore.session.get_session().get_service_model("lambda")
    output = model.operation_model("InvokeWithResponseStream").output_shape
    shape = output.members["EventStream"]
    raw = (
        b"".join(event_stream.payload_chunks(b"hello "))
        + b"".join(event_stream.payload_chunks(b"world"))
        + event_stream.invoke_complete("Error", "boom", "bG9n")
    )

    class Raw(io.BytesIO):
        def stream(self) -> object:
            yield from iter(lambda: self.read(7), b"")  # arbitrary splits, as a socket gives

    stream = EventStream(Raw(raw), shape, EventStreamJSONParser(), "InvokeWithResponseStream")
    events = list(stream)
    assert events == [
        {"PayloadChunk": {"Payload": b"hello "}},
        {"PayloadChunk": {"Payload": b"world"}},
        {"InvokeComplete": {"ErrorCode": "Error", "ErrorDetails": "boom", "LogResult": "bG9n"}},
    ]


def test_invoke_complete_without_error() -> None:
    [(headers, payload)] = _decode(event_stream.invoke_complete())
    assert headers[":event-type"] == "InvokeComplete" and payload == b"{}"


def test_oversized_headers_are_refused() -> None:
    with pytest.raises(ValueError):
        event_stream.message({"x" * 256: "v"}, b"")
