"""The agent's stdout as a log channel: one JSON event a line, numbered, tagged, split not cut."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "agent_runtimes"))
from harness import AgentProcess, runtime_cmd

MAX_LINE_BYTES = 256 * 1024  # the agent's maxLineBytes (runtime-images/agent/logcapture.go)


@pytest.fixture
def agent(tmp_path: Path) -> Iterator[AgentProcess]:
    process = AgentProcess(runtime_cmd("scripted.py"), {}, cwd=tmp_path)
    yield process
    assert process.close() == 0


def test_events_are_numbered_timestamped_and_tagged(agent: AgentProcess) -> None:
    agent.invoke({"cmd": "print", "lines": ["a", "b"]}, request_id="req-a")
    agent.invoke({"cmd": "print", "lines": ["c"]}, request_id="req-b")
    agent.wait_for_line(lambda line: line.startswith("REPORT RequestId: req-b"))
    events = agent.events()
    assert [e["s"] for e in events] == list(range(1, len(events) + 1))  # no gaps, no repeats
    assert all(isinstance(e["t"], int) and e["t"] > 1_600_000_000_000 for e in events)
    init = [e for e in events if e["p"] == "init"]
    assert any("scripted runtime init" in e["m"] for e in init)
    assert all(e["r"] == "" for e in init)  # printed during init: no request yet
    tagged = [(e["r"], e["m"]) for e in events if e["p"] == "invoke"]
    assert [m for r, m in tagged if r == "req-a"][1:3] == ["a", "b"]
    assert [m for r, m in tagged if r == "req-b"][1:2] == ["c"]
    assert [m.split()[0] for r, m in tagged if r == "req-a"] == ["START", "a", "b", "END", "REPORT"]


def test_a_long_line_is_split_not_dropped(agent: AgentProcess) -> None:
    long = "z" * (MAX_LINE_BYTES * 2 + 10)
    agent.invoke({"cmd": "print", "lines": [long, "tail"]}, request_id="req-long")
    agent.wait_for_line(lambda line: line.startswith("REPORT RequestId: req-long"))
    body = [e["m"] for e in agent.events() if e["r"] == "req-long"][1:-2]
    assert [len(m) for m in body] == [MAX_LINE_BYTES, MAX_LINE_BYTES, 10, 4]
    assert "".join(body[:3]) == long


def test_a_line_printed_before_exit_is_tagged_with_its_request(agent: AgentProcess) -> None:
    agent.invoke({"cmd": "exit", "code": 3}, request_id="req-exit")
    agent.wait_for_line(lambda line: line.startswith("REPORT RequestId: req-exit"))
    line = next(e for e in agent.events() if e["m"] == "exiting with 3")
    assert line["r"] == "req-exit" and line["p"] == "invoke"
