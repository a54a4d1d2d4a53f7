"""The function's processes run as another user than the agent, with no capabilities and
no_new_privs: they cannot read, trace, write to or signal the agent, and setuid binaries give
them nothing."""

from __future__ import annotations

import pytest

from tests.security.hostile import deploy, instance_of, run
from tests.support.server import Server

pytestmark = pytest.mark.docker

FUNCTION_UID, FUNCTION_GID = 993, 990
# CAP_KILL (5), CAP_SETGID (6), CAP_SETUID (7): all the agent keeps.
AGENT_CAPABILITIES = (1 << 5) | (1 << 6) | (1 << 7)


def test_the_function_cannot_read_trace_write_to_or_kill_the_agent(server: Server) -> None:
    name = deploy(server)
    environment = run(server, name, {"probe": "environment"})
    before = instance_of(server, name)

    found = run(server, name, {"probe": "proc"})

    assert found["agent_pid"] == 1  # the mounted binary is the container's entry point
    assert found["agent_cmdline"].split()[0] == "/var/lambkin/agent/lambkin-agent"
    assert found["my_uid"] == FUNCTION_UID and found["agent_uid"] == 0
    for probe in ("environ", "init_environ", "mem", "fd", "stdout", "kill_init", "kill"):
        assert found[probe]["ok"] is False, f"{probe}: {found[probe]}"
        assert found[probe]["errno"] in ("EACCES", "EPERM"), f"{probe}: {found[probe]}"
    assert found["ptrace"] == {
        "ok": False,
        "errno": "EPERM",
        "error": "[Errno 1] Operation not permitted",
    }
    assert not any(key.startswith("LAMBKIN_") for key in environment)
    # The agent lived through it: the same instance serves the next invocation.
    assert run(server, name, {"probe": "status"})
    assert instance_of(server, name)["InstanceId"] == before["InstanceId"]


def test_no_capabilities_and_no_new_privileges(server: Server) -> None:
    status = run(server, deploy(server), {"probe": "status"})

    assert status["Uid"] == " ".join([str(FUNCTION_UID)] * 4)
    assert status["Gid"] == " ".join([str(FUNCTION_GID)] * 4)
    assert status["Groups"] == "", "no supplementary groups"
    for field in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert status[field] == "0000000000000000", field
    assert int(status["CapBnd"], 16) & ~AGENT_CAPABILITIES == 0, status["CapBnd"]
    assert status["NoNewPrivs"] == "1"
    assert status["Seccomp"] == "2", "Docker's default seccomp profile (a filter) stays on"


def test_setuid_binaries_do_not_raise_privileges(server: Server) -> None:
    found = run(server, deploy(server), {"probe": "setuid"})

    seen = {path: euid for path, euid in found["euid_seen"].items() if euid is not None}
    assert {"/usr/bin/su", "/usr/bin/passwd"} <= set(seen), found
    assert seen == dict.fromkeys(seen, FUNCTION_UID), found
