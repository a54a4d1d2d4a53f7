"""X-Ray segment documents, as the X-Ray SDKs send them to the daemon, read as spans.

A function's SDK sends each finished segment or subsegment as one JSON document (the X-Ray
segment document schema: `name`, `id`, `trace_id`, `start_time`, `end_time`, `parent_id`,
`type`, `namespace`, `http`, `aws`, `error`/`fault`/`throttle`, `cause`, `annotations`,
`metadata`, nested `subsegments`). The agent forwards each document verbatim
(runtime-images/agent/xray.go); this module turns one into flat span records, parent before
child, refusing what the schema does not allow. What comes from function code is hostile:
every field is checked for type and bound, nothing in it is trusted to be small, and a
document that breaks a rule is refused as a whole (a part of one would be a misleading trace).

Pure: the tracer (tracing.py) decides which trace a record may join and builds the spans.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field

MAX_DOCUMENT_BYTES = 64 * 1024  # the daemon's datagram bound
MAX_DEPTH = 16
MAX_SPANS = 256  # per document
MAX_ATTRIBUTES = 64  # per span
MAX_STRING = 1024
MAX_NAME = 200  # the schema's bound for `name`
MAX_SKEW_S = 24 * 3600.0  # times further than this from now are not this invocation's

_SPAN_ID = re.compile(r"[0-9a-f]{16}")
_TRACE_ID = re.compile(r"1-([0-9a-f]{8})-([0-9a-f]{24})")
_ANNOTATION_KEY = re.compile(r"[A-Za-z0-9_]{1,500}")  # X-Ray's rule for annotation keys

Attribute = str | bool | int | float


class SegmentError(ValueError):
    """Why a document is not a segment X-Ray would accept."""


@dataclass(frozen=True)
class SegmentSpan:
    trace_id: int  # 128 bits: X-Ray's epoch prefix and its 96 bits
    span_id: int
    parent_id: int | None  # None: a segment with no parent (the tracer places it)
    name: str
    start_ns: int
    end_ns: int
    client: bool  # a call out of the function (namespace aws or remote)
    error: str | None  # why it failed (error or fault set), else None
    attributes: dict[str, Attribute] = field(default_factory=dict)


def trace_id_of(text: object) -> int:
    """`1-5759e988-bd862e3fe1be46a994272793` as the 128-bit id it names."""
    match = _TRACE_ID.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise SegmentError(f"trace_id {_shown(text)} is not 1-<8 hex>-<24 hex>")
    return int(match[1] + match[2], 16)


def segment_spans(document: str, now_s: float) -> list[SegmentSpan]:
    """The spans in one document: the segment or subsegment and everything nested in it.

    An `in_progress` node has no end yet; it and what it holds are left out (the SDK sends the
    finished node again later, whole)."""
    if len(document.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        raise SegmentError(f"the document is over {MAX_DOCUMENT_BYTES} bytes")
    try:
        root = json.loads(document)
    except (ValueError, RecursionError) as error:
        raise SegmentError(f"not JSON: {str(error)[:100]}") from None
    if not isinstance(root, dict):
        raise SegmentError("a segment document is a JSON object")
    trace_id = trace_id_of(root.get("trace_id"))
    parent = root.get("parent_id")
    if root.get("type") == "subsegment" and parent is None:
        raise SegmentError("a subsegment sent on its own needs parent_id")
    spans: list[SegmentSpan] = []
    _walk(root, trace_id, _optional_id(parent, "parent_id"), 0, now_s, spans)
    return spans


def _walk(
    node: dict[str, object],
    trace_id: int,
    parent_id: int | None,
    depth: int,
    now_s: float,
    spans: list[SegmentSpan],
) -> None:
    if depth >= MAX_DEPTH:
        raise SegmentError(f"subsegments nested deeper than {MAX_DEPTH}")
    if "trace_id" in node and trace_id_of(node["trace_id"]) != trace_id:
        raise SegmentError("a nested subsegment names another trace")
    span_id = _span_id(node.get("id"), "id")
    if node.get("in_progress") is True:
        return
    name = node.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME:
        raise SegmentError(f"name must be a string of 1 to {MAX_NAME} characters")
    start = _time(node.get("start_time"), "start_time", now_s)
    end = _time(node.get("end_time"), "end_time", now_s)
    if end < start:
        raise SegmentError("end_time is before start_time")
    if len(spans) >= MAX_SPANS:
        raise SegmentError(f"more than {MAX_SPANS} segments in one document")
    namespace = node.get("namespace")
    spans.append(
        SegmentSpan(
            trace_id,
            span_id,
            parent_id,
            name,
            int(start * 1e9),
            int(end * 1e9),
            namespace in ("aws", "remote"),
            _failure(node),
            _attributes(
                node, "segment" if depth == 0 and node.get("type") != "subsegment" else "subsegment"
            ),
        )
    )
    children = node.get("subsegments", [])
    if not isinstance(children, list):
        raise SegmentError("subsegments must be a list")
    for child in children:
        if not isinstance(child, dict):
            raise SegmentError("a subsegment is a JSON object")
        _walk(child, trace_id, span_id, depth + 1, now_s, spans)


def _span_id(value: object, name: str) -> int:
    if not isinstance(value, str) or not _SPAN_ID.fullmatch(value) or value == "0" * 16:
        raise SegmentError(f"{name} {_shown(value)} is not 16 hexadecimal digits")
    return int(value, 16)


def _optional_id(value: object, name: str) -> int | None:
    return None if value is None else _span_id(value, name)


def _time(value: object, name: str, now_s: float) -> float:
    # bool is an int to Python, and never a time
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SegmentError(f"{name} must be epoch seconds")
    seconds = float(value)
    if not math.isfinite(seconds) or abs(seconds - now_s) > MAX_SKEW_S:
        raise SegmentError(f"{name} {seconds!r} is not within a day of now")
    return seconds


def _failure(node: dict[str, object]) -> str | None:
    if node.get("fault") is not True and node.get("error") is not True:
        return None
    cause = node.get("cause")
    if isinstance(cause, dict):
        exceptions = cause.get("exceptions")
        if isinstance(exceptions, list) and exceptions and isinstance(exceptions[0], dict):
            first = exceptions[0]
            text = " ".join(
                str(first[k]) for k in ("type", "message") if isinstance(first.get(k), str)
            )
            if text:
                return _bounded(text)
    return "fault" if node.get("fault") is True else "error"


def _attributes(node: dict[str, object], kind: str) -> dict[str, Attribute]:
    out: dict[str, Attribute] = {"lambkin.source": "xray", "xray.type": kind}
    for flag in ("error", "fault", "throttle"):
        if node.get(flag) is True:
            out[f"xray.{flag}"] = True
    if isinstance(node.get("namespace"), str):
        out["xray.namespace"] = _bounded(str(node["namespace"]))
    http = node.get("http")
    if isinstance(http, dict):
        request, response = http.get("request"), http.get("response")
        if isinstance(request, dict):
            _put(out, "http.request.method", request.get("method"))
            _put(out, "url.full", request.get("url"))
        if isinstance(response, dict):
            _put(out, "http.response.status_code", response.get("status"))
    aws = node.get("aws")
    if isinstance(aws, dict):
        for key, value in aws.items():
            if isinstance(key, str) and _ANNOTATION_KEY.fullmatch(key):
                _put(out, f"aws.{key}", value)
    annotations = node.get("annotations")
    if isinstance(annotations, dict):
        for key, value in annotations.items():
            if isinstance(key, str) and _ANNOTATION_KEY.fullmatch(key):
                _put(out, f"xray.annotations.{key}", value)
    metadata = node.get("metadata")
    if isinstance(metadata, dict) and metadata:
        out["xray.metadata"] = _bounded(json.dumps(metadata, separators=(",", ":"), default=str))
    while len(out) > MAX_ATTRIBUTES:
        out.popitem()
    return out


def _put(out: dict[str, Attribute], key: str, value: object) -> None:
    """Scalars only (an attribute is never a structure of the caller's making)."""
    if isinstance(value, bool):
        out[key] = value
    elif isinstance(value, int):
        out[key] = value if -(2**63) <= value < 2**63 else str(value)[:MAX_STRING]
    elif isinstance(value, float) and math.isfinite(value):
        out[key] = value
    elif isinstance(value, str):
        out[key] = _bounded(value)


def _bounded(text: str) -> str:
    return text if len(text) <= MAX_STRING else text[: MAX_STRING - 1] + "…"


def _shown(value: object) -> str:
    return repr(value)[:40]
