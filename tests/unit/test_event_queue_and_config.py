from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import LambdaError, LambdaErrorCode
from orchestrator.event_config import EventInvokeConfig, parse
from orchestrator.event_queue import FAILED, EventQueue


def test_queue_claims_due_events_once_and_survives_restart(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    queue.put("a", "fn", b"1", now=100)
    queue.put("b", "fn", b"2", now=200)
    assert [e.request_id for e in queue.claim_due(now=150, limit=10)] == ["a"]
    assert queue.claim_due(now=150, limit=10) == [], "a running event is not handed out twice"
    queue.close()
    reopened = EventQueue(tmp_path / "q.db")  # the process died while "a" was running
    assert sorted(e.request_id for e in reopened.claim_due(now=300, limit=10)) == ["a", "b"]


def test_retry_fail_dead_letters_and_replay(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    queue.put("a", "fn", b"{}", now=0)
    [event] = queue.claim_due(now=0, limit=1)
    queue.retry(event.id, at=50, attempts=1, error="boom")
    assert queue.claim_due(now=49, limit=1) == []
    [event] = queue.claim_due(now=50, limit=1)
    assert event.attempts == 1
    queue.fail(event.id, attempts=2, condition="RetriesExhausted", error="boom")
    [dead] = queue.dead_letters("fn")
    assert (dead.state, dead.condition, dead.attempts) == (FAILED, "RetriesExhausted", 2)
    assert queue.depth() == 0
    assert queue.replay("fn", now=60) == 1
    [again] = queue.claim_due(now=60, limit=1)
    assert again.request_id == "a" and again.attempts == 0
    queue.done(again.id)
    assert queue.depth() == 0 and queue.dead_letters("fn") == []


def test_limit_zero_claims_nothing(tmp_path: Path) -> None:
    queue = EventQueue(tmp_path / "q.db")
    queue.put("a", "fn", b"{}", now=0)
    assert queue.claim_due(now=1, limit=0) == []


def exists(name: str) -> bool:
    return name == "target"


def test_put_defaults_and_update_keeps_fields() -> None:
    put = parse({"MaximumRetryAttempts": 0}, exists)
    assert (put.maximum_retry_attempts, put.maximum_event_age_s) == (0, 21600)
    dest = {"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:000000000000:function:target"}}
    updated = parse({"DestinationConfig": dest}, exists, base=put)
    assert updated.maximum_retry_attempts == 0 and updated.on_failure is not None
    hook = parse(
        {"DestinationConfig": {"OnSuccess": {"Destination": "http://127.0.0.1:1/x"}}}, exists
    )
    assert hook.on_success == "http://127.0.0.1:1/x"
    rendered = updated.render("arn:aws:lambda:us-east-1:000000000000:function:fn")
    assert rendered["DestinationConfig"]["OnFailure"]["Destination"].endswith(":function:target")
    assert EventInvokeConfig.from_json(updated.to_json()) == updated


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"MaximumRetryAttempts": 3}, LambdaErrorCode.VALIDATION),
        ({"MaximumRetryAttempts": -1}, LambdaErrorCode.VALIDATION),
        ({"MaximumEventAgeInSeconds": 59}, LambdaErrorCode.VALIDATION),
        ({"MaximumEventAgeInSeconds": True}, LambdaErrorCode.VALIDATION),
        (
            {
                "DestinationConfig": {
                    "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:000000000000:q"}
                }
            },
            LambdaErrorCode.INVALID_PARAMETER_VALUE,
        ),
        (
            {
                "DestinationConfig": {
                    "OnFailure": {
                        "Destination": "arn:aws:lambda:us-east-1:000000000000:function:nope"
                    }
                }
            },
            LambdaErrorCode.INVALID_PARAMETER_VALUE,
        ),
        ({"DestinationConfig": {"OnSuccess": "http://x"}}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
        ({"DestinationConfig": []}, LambdaErrorCode.INVALID_PARAMETER_VALUE),
    ],
)
def test_rejects(body: dict[str, Any], code: LambdaErrorCode) -> None:
    with pytest.raises(LambdaError) as raised:
        parse(body, exists)
    assert raised.value.code is code


@pytest.mark.parametrize(
    "destination",
    [
        "arn:aws:lambda:us-east-1:000000000000:function:target\n",
        "arn:aws:lambda:us-east-1:000000000000:function:target\r\n",
        "http://127.0.0.1:9/hook\r\nX-Injected: 1",
        "https://example.invalid/ hook",
    ],
)
def test_destinations_must_be_whole_arns_or_urls_without_control_characters(
    destination: str,
) -> None:
    # Refused either way: by AWS's destination pattern (ValidationException), or as a URL
    # this server will not call.
    with pytest.raises(LambdaError, match="not supported|failed to satisfy constraint"):
        parse({"DestinationConfig": {"OnSuccess": {"Destination": destination}}}, exists)
