"""AWS's event stream framing (`application/vnd.amazon.eventstream`), the encoding side, pure.

One message: a prelude (total length, headers length: big-endian uint32 each), the CRC32 of
the prelude, the headers, the payload, then the CRC32 of everything before it. A header is its
name's length (uint8), the name, a value type (7: string) and the value's length (uint16).
botocore's `botocore.eventstream.EventStreamBuffer` reads exactly this
(tests/unit/test_event_stream.py decodes with it).
"""

from __future__ import annotations

import json
import struct
import zlib

STRING = 7  # the header value type of a UTF-8 string
PRELUDE = struct.Struct(">II")
MAX_HEADER_NAME = 255
MAX_HEADER_VALUE = 32767
MAX_PAYLOAD = 16 * 1024 * 1024  # botocore's limit on one message's payload
CONTENT_TYPE = "application/vnd.amazon.eventstream"


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    if len(raw_name) > MAX_HEADER_NAME or len(raw_value) > MAX_HEADER_VALUE:
        raise ValueError(f"event stream header {name!r} too long")
    length = struct.pack(">H", len(raw_value))
    return bytes([len(raw_name)]) + raw_name + bytes([STRING]) + length + raw_value


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event stream message."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("event stream payload over 16 MiB: split it")
    encoded = b"".join(_header(name, value) for name, value in headers.items())
    total = PRELUDE.size + 4 + len(encoded) + len(payload) + 4
    prelude = PRELUDE.pack(total, len(encoded))
    body = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return body + struct.pack(">I", zlib.crc32(body))


def event(event_type: str, payload: bytes, content_type: str) -> bytes:
    """An `event` message of the given event type, as rest-json services send them."""
    return message(
        {":event-type": event_type, ":content-type": content_type, ":message-type": "event"},
        payload,
    )


# -- Lambda's InvokeWithResponseStream events ------------------------------------------------

CHUNK_LIMIT = 64 * 1024  # bytes of payload per PayloadChunk (larger writes are split)


def payload_chunks(data: bytes) -> list[bytes]:
    """`PayloadChunk` events carrying `data` (none for empty data)."""
    return [
        event("PayloadChunk", data[i : i + CHUNK_LIMIT], "application/octet-stream")
        for i in range(0, len(data), CHUNK_LIMIT)
    ]


def invoke_complete(
    error_code: str | None = None, error_details: str | None = None, log_result: str | None = None
) -> bytes:
    """The `InvokeComplete` event ending the stream; members left out when None."""
    members = {"ErrorCode": error_code, "ErrorDetails": error_details, "LogResult": log_result}
    document = {k: v for k, v in members.items() if v is not None}
    return event("InvokeComplete", json.dumps(document).encode(), "application/json")
