"""The agent binary for tests: `orchestrator.agent_binary` builds it (host `go`, else the builder
image) into its cache, keyed by the sources' hash, so a suite builds it once and no binary is ever
committed; LAMBKIN_AGENT_BINARY names one built elsewhere (an image's, a -race build). The host's
`go` also runs the agent's own vet, unit tests and gofmt: no `go` is a failure, not a skip (the
host set-up script, scripts/ensure-host-runtimes.sh, installs it).
"""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

import pytest

from orchestrator import agent_binary

AGENT_SRC = agent_binary.AGENT_SOURCE_DIR


def go_tool() -> str:
    found = agent_binary.host_go()
    if found is None:
        pytest.fail("no `go` on this host: scripts/ensure-host-runtimes.sh installs golang-go")
    return found


def run_go(*args: str) -> subprocess.CompletedProcess[str]:
    """`go ARGS` in the agent's module, output captured."""
    return subprocess.run(
        [go_tool(), *args],
        cwd=AGENT_SRC,
        env=agent_binary.go_environment(agent_binary.cache_root()),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@functools.cache
def go_agent_binary() -> Path:
    """The binary the drivers run, built from the current sources."""
    return agent_binary.agent_binary()
