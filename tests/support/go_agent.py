"""The Go agent (runtime-images/agent/) built with the host's `go`, and the `agent_kind` fixture
that runs a test once against each agent.

The build lands in a cache directory keyed by the sources' hash, outside the repository, so a
suite builds it once and no binary is ever committed. No `go` is a failure, not a skip: the
host set-up script (scripts/ensure-host-runtimes.sh) installs it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AGENT_SRC = REPO / "runtime-images" / "agent"
GO_CANDIDATES = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")


def go_tool() -> str:
    found = shutil.which("go") or next((g for g in GO_CANDIDATES if os.access(g, os.X_OK)), None)
    if found is None:
        pytest.fail("no `go` on this host: scripts/ensure-host-runtimes.sh installs golang-go")
    return found


def go_env() -> dict[str, str]:
    cache = Path(tempfile.gettempdir()) / "lambkin-go-cache"
    return {
        **os.environ,
        "CGO_ENABLED": "0",
        "GOFLAGS": "-mod=mod",
        "GOCACHE": os.environ.get("GOCACHE", str(cache / "build")),
        "GOPATH": os.environ.get("GOPATH", str(cache / "path")),
        "GOPROXY": "off",  # the agent has no dependencies; nothing may be fetched
        "GOTOOLCHAIN": "local",
    }


def run_go(*args: str) -> subprocess.CompletedProcess[str]:
    """`go ARGS` in the agent's module, output captured."""
    return subprocess.run(
        [go_tool(), *args],
        cwd=AGENT_SRC,
        env=go_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(AGENT_SRC.glob("*")):
        if path.is_file() and (path.suffix == ".go" or path.name == "go.mod"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@functools.cache
def go_agent_binary() -> Path:
    """Build once per source version: CGO off, static, stripped, as images will ship it.
    LAMBKIN_GO_AGENT_BINARY names a binary built elsewhere instead (an image's, a -race one)."""
    prebuilt = os.environ.get("LAMBKIN_GO_AGENT_BINARY")
    if prebuilt:
        return Path(prebuilt)
    out_dir = Path(tempfile.gettempdir()) / "lambkin-go-agent" / _sources_digest()
    binary = out_dir / "lambkin-agent"
    if binary.exists():
        return binary
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / f".lambkin-agent.{os.getpid()}"
    done = run_go("build", "-trimpath", "-ldflags=-s -w", "-o", str(partial), ".")
    if done.returncode != 0:
        pytest.fail(f"go build of the agent failed:\n{done.stdout}{done.stderr}")
    partial.replace(binary)
    return binary


@pytest.fixture(params=["python", "go"])
def agent_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Runs the test against the Python agent, then against the Go binary (the harness reads
    LAMBKIN_TEST_AGENT_CMD)."""
    kind: str = request.param
    if kind == "go":
        monkeypatch.setenv("LAMBKIN_TEST_AGENT_CMD", json.dumps([str(go_agent_binary())]))
    else:
        monkeypatch.delenv("LAMBKIN_TEST_AGENT_CMD", raising=False)
    yield kind
