"""The agent's Runtime API is the one agent port a function reaches (on loopback, inside its
instance), so its HTTP server takes hostile input: malformed requests get HTTP errors, never a
crash, and the instance serves its next invocation as before."""

from __future__ import annotations

import pytest

from tests.security.hostile import deploy, instance_of, run
from tests.support.server import Server

pytestmark = pytest.mark.docker

EXPECTED = {
    "huge header": "HTTP/1.1 431 Request Header Fields Too Large",
    "garbage request line": "HTTP/1.1 400 Bad Request",
    # After init, init/error is refused (403) before its body is read; the server then drains
    # the unread body, which runs the chunk parser on the hostile sizes anyway.
    "bad chunk size": "HTTP/1.1 4",
    "chunk size overflow": "HTTP/1.1 4",
    "other request id": "HTTP/1.1 400 Bad Request",
}


def test_hostile_requests_to_the_runtime_api_get_errors_and_change_nothing(
    server: Server,
) -> None:
    name = deploy(server)
    run(server, name, {"probe": "status"})  # an instance, warm
    before = instance_of(server, name)

    answers = run(server, name, {"probe": "rapi_abuse"})

    for probe, status in EXPECTED.items():
        assert answers[probe]["ok"] is True, f"{probe}: {answers[probe]}"
        assert answers[probe]["value"].startswith(status), f"{probe}: {answers[probe]}"
    assert run(server, name, {"probe": "status"})["NoNewPrivs"] == "1"
    after = instance_of(server, name)
    assert after["InstanceId"] == before["InstanceId"], "the agent lived through it"
