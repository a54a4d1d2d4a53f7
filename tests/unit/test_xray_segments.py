"""X-Ray segment documents read as spans (xray_segments.py), and the tracer's rules for folding
them into an invocation's trace (Tracing.fold_segments), with a real Tracing."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from orchestrator.tracing import MAX_SEGMENTS_PER_INVOCATION, Tracing
from orchestrator.xray_segments import SegmentError, segment_spans, trace_id_of

NOW = time.time()
TRACE = "1-5759e988-bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"


def doc(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "work",
        "id": "70de5b6f19ff9a0a",
        "trace_id": TRACE,
        "parent_id": PARENT,
        "type": "subsegment",
        "start_time": NOW - 1,
        "end_time": NOW,
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def test_a_subsegment_with_a_nested_one_is_two_spans_parent_first() -> None:
    child = {"name": "inner", "id": "a" * 16, "start_time": NOW - 0.5, "end_time": NOW - 0.1}
    spans = segment_spans(json.dumps(doc(subsegments=[child], annotations={"k": "v"})), NOW)
    assert [s.name for s in spans] == ["work", "inner"]
    assert spans[0].parent_id == int(PARENT, 16) and spans[1].parent_id == spans[0].span_id
    assert spans[0].trace_id == trace_id_of(TRACE) == int("5759e988bd862e3fe1be46a994272793", 16)
    assert spans[0].attributes["xray.annotations.k"] == "v"
    assert spans[0].end_ns - spans[0].start_ns == pytest.approx(1e9, rel=1e-3)


def test_in_progress_nodes_are_left_out_and_failures_carry_their_cause() -> None:
    cause = {"exceptions": [{"type": "ValueError", "message": "no such order"}]}
    spans = segment_spans(
        json.dumps(
            doc(
                fault=True,
                cause=cause,
                subsegments=[{"name": "open", "id": "b" * 16, "in_progress": True}],
            )
        ),
        NOW,
    )
    assert len(spans) == 1 and spans[0].error == "ValueError no such order"
    assert spans[0].attributes["xray.fault"] is True


REFUSED = [
    ("not json", "{nope"),
    ("not an object", "[1]"),
    ("bad trace id", doc(trace_id="1-xyz")),
    ("bad span id", doc(id="12345")),
    ("zero span id", doc(id="0" * 16)),
    ("subsegment without parent", doc(parent_id=None)),
    ("name too long", doc(name="n" * 201)),
    ("empty name", doc(name="")),
    ("end before start", doc(end_time=NOW - 2)),
    ("time a year away", doc(start_time=NOW - 365 * 86400)),
    ("time not a number", doc(start_time="yesterday")),
    ("time a bool", doc(end_time=True)),
    ("nested other trace", doc(subsegments=[doc(trace_id="1-00000000-" + "0" * 24)])),
    ("subsegments not a list", doc(subsegments={"a": 1})),
    ("too big", doc(metadata={"x": "y" * 70_000})),
]


@pytest.mark.parametrize("case, document", REFUSED, ids=[c for c, _ in REFUSED])
def test_documents_breaking_the_schema_are_refused(case: str, document: Any) -> None:
    text = document if isinstance(document, str) else json.dumps(document)
    with pytest.raises(SegmentError):
        segment_spans(text, NOW)


def test_deep_nesting_is_refused_not_a_recursion_crash() -> None:
    node = doc()
    for level in range(40):
        node = doc(id=f"{level + 1:016x}", subsegments=[node])
    with pytest.raises(SegmentError, match="deeper"):
        segment_spans(json.dumps(node), NOW)


def test_attributes_are_bounded_scalars() -> None:
    spans = segment_spans(
        json.dumps(
            doc(
                annotations={f"k{i}": "v" * (3000 if i == 0 else 10) for i in range(100)},
                aws={"x": [1]},
            )
        ),
        NOW,
    )
    attributes = spans[0].attributes
    assert len(attributes) <= 64
    assert all(len(v) <= 1024 for v in attributes.values() if isinstance(v, str))
    assert "aws.x" not in attributes  # a structure is never an attribute


# -- the tracer's rules -------------------------------------------------------------------------

INVOCATION_SPAN = int(PARENT, 16)


def traced(tracing: Tracing) -> list[str]:
    return [s["name"] for s in tracing.recent.trace(trace_id_of(TRACE)) or []]


def test_a_segment_joins_its_own_invocation_under_the_invoke_span() -> None:
    tracing = Tracing()
    tracing.expect_segments("rid-1", "fn", trace_id_of(TRACE), INVOCATION_SPAN)
    tracing.fold_segments([("fn", "rid-1", json.dumps(doc(parent_id=None, type="segment")))])
    [span] = tracing.recent.trace(trace_id_of(TRACE)) or []
    assert span["name"] == "work" and span["parentSpanId"] == PARENT
    assert tracing.segments == {"folded": 1, "refused": 0, "unexpected": 0}


@pytest.mark.parametrize(
    "function, request_id, document, outcome",
    [
        ("other-fn", "rid-1", doc(), "unexpected"),  # another function's invocation
        ("fn", "rid-unknown", doc(), "unexpected"),  # no such sampled invocation
        ("fn", "rid-1", doc(trace_id="1-00000001-" + "1" * 24), "refused"),  # another trace
        ("fn", "rid-1", doc(id=PARENT), "refused"),  # the invocation's own span id
        ("fn", "rid-1", doc(name=""), "refused"),  # invalid
    ],
)
def test_segments_that_may_not_join_are_counted_not_traced(
    function: str, request_id: str, document: dict[str, Any], outcome: str
) -> None:
    tracing = Tracing()
    tracing.expect_segments("rid-1", "fn", trace_id_of(TRACE), INVOCATION_SPAN)
    tracing.fold_segments([(function, request_id, json.dumps(document))])
    assert traced(tracing) == []
    assert tracing.segments[outcome] == 1 and tracing.segments["folded"] == 0


def test_an_invocation_folds_at_most_its_bound() -> None:
    tracing = Tracing(max_traces=10)
    tracing.expect_segments("rid-1", "fn", trace_id_of(TRACE), INVOCATION_SPAN)
    many = [("fn", "rid-1", json.dumps(doc(id=f"{i + 1:016x}"))) for i in range(1100)]
    tracing.fold_segments(many)
    assert tracing.segments["folded"] == MAX_SEGMENTS_PER_INVOCATION
    assert tracing.segments["refused"] == 1100 - MAX_SEGMENTS_PER_INVOCATION
