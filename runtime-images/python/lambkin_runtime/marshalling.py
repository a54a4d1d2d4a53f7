"""Event bytes -> Python object, handler return value -> response bytes.

As awslambdaric does: the event is decoded as JSON only when its Content-Type is exactly
`application/json` (otherwise the handler gets the raw bytes); an empty body is not valid JSON
and fails with `Runtime.UnmarshalError`. A `bytes` return value is sent as is, anything else is
JSON-encoded (ASCII-escaped, NaN allowed, `Decimal` as a number).
"""

from __future__ import annotations

import json

from .errors import MARSHAL_ERROR, UNMARSHAL_ERROR, FaultError

TYPE_CHECKING = False  # as typing.TYPE_CHECKING; importing typing costs start-up time

if TYPE_CHECKING:
    from typing import Any

JSON_CONTENT_TYPE = "application/json"
BYTES_CONTENT_TYPE = "application/unknown"


def _encode_decimal(value: Any) -> Any:
    import decimal  # only when a value is not plain JSON: keeps decimal out of the cold start

    if isinstance(value, decimal.Decimal):
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= 0:  # a whole number written without a point
            return int(value)
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_ENCODER = json.JSONEncoder(allow_nan=True, default=_encode_decimal)


def decode_event(body: bytes, content_type: str | None) -> Any:
    if content_type is not None and content_type != JSON_CONTENT_TYPE:
        return body
    try:
        return json.loads(body)
    except Exception as exc:
        raise FaultError(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None


def encode_response(value: Any) -> tuple[bytes, str]:
    """The response body and its Content-Type."""
    if isinstance(value, bytes):
        return value, BYTES_CONTENT_TYPE
    try:
        return _ENCODER.encode(value).encode(), JSON_CONTENT_TYPE
    except Exception as exc:
        raise FaultError(MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None
