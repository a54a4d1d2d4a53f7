"""The bootstrap agent binary: built from runtime-images/agent/ (Go, stdlib only), cached by the
hash of its sources, and mounted read-only into every instance (docker) or run as the instance's
first process (process driver).

`agent_binary()` returns the path of a binary built from the sources as they are now:
`$XDG_CACHE_HOME/lambkin/agent/<hash>/lambkin-agent` (default `~/.cache/...`), built on first use
with the host's `go` when there is one (Debian 12's golang-go 1.19 is enough), otherwise inside
the builder image `lambkin/base-go:bookworm` (made from Debian packages like the other base
images, see `images.py`) through the local Docker engine. Both builds are
`CGO_ENABLED=0 go build -trimpath -ldflags="-s -w"`: one static binary, no toolchain needed
where it runs. `LAMBKIN_AGENT_BINARY` names a binary built elsewhere instead (a `-race` build, a
release). No binary is ever written into the source tree.

A cached binary is checked on every use, since every instance runs it as root: it must be ours,
writable by nobody else (nor its directory), and match the SHA-256 recorded beside it when it
was built (`lambkin-agent.sha256`); anything else (a truncated copy, an edited file, a cache
another user could write to) is built again. The check guards against corruption and
other users, not against our own user, who could replace the sources too.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

REPO_ROOT = Path(__file__).resolve().parent.parent
AGENT_SOURCE_DIR = REPO_ROOT / "runtime-images" / "agent"
BINARY_NAME = "lambkin-agent"
DIGEST_SUFFIX = ".sha256"
BUILDER_IMAGE = "lambkin/base-go:bookworm"
GO_CANDIDATES = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")
BUILD_TIMEOUT_S = 600
OVERRIDE_ENV = "LAMBKIN_AGENT_BINARY"

NOTHING_CAN_BUILD = (
    "cannot build the Lambkin agent (runtime-images/agent/): this host has no `go` and no Docker "
    "engine answers. Install Go (`apt-get install golang-go`; scripts/ensure-host-runtimes.sh "
    "does it) or start Docker (scripts/ensure-docker.sh), or set LAMBKIN_AGENT_BINARY to a "
    "binary built elsewhere"
)


class AgentBuildError(Exception):
    """The agent binary could not be built; the message says what to install or fix."""


def source_files(source_dir: Path = AGENT_SOURCE_DIR) -> list[Path]:
    """What the binary is built from: go.mod and every non-test .go file."""
    files = sorted(
        path
        for path in source_dir.iterdir()
        if path.is_file()
        and (path.name == "go.mod" or (path.suffix == ".go" and not path.stem.endswith("_test")))
    )
    if not any(path.suffix == ".go" for path in files):
        raise AgentBuildError(f"{source_dir} has no Go sources: run Lambkin from a source checkout")
    return files


def source_hash(source_dir: Path = AGENT_SOURCE_DIR) -> str:
    """SHA-256 over the names and contents of the agent's sources."""
    digest = hashlib.sha256()
    for path in source_files(source_dir):
        digest.update(path.name.encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambkin" / "agent"


def host_go() -> str | None:
    """The host's go tool, if any (Debian's golang-go is on PATH; a tarball install may not be)."""
    return shutil.which("go") or next((g for g in GO_CANDIDATES if os.access(g, os.X_OK)), None)


def go_environment(cache: Path) -> dict[str, str]:
    """A build that fetches nothing (the agent has no dependencies) and uses the local toolchain."""
    return {
        **os.environ,
        "CGO_ENABLED": "0",
        "GOFLAGS": "-mod=mod",
        "GOPROXY": "off",
        "GOTOOLCHAIN": "local",
        "GOCACHE": os.environ.get("GOCACHE") or str(cache / "gocache"),
        "GOPATH": os.environ.get("GOPATH") or str(cache / "gopath"),
    }


GO_BUILD_ARGS = ("build", "-trimpath", "-ldflags=-s -w", "-buildvcs=false")


def agent_binary(progress: Progress = logger.info, *, root: Path | None = None) -> Path:
    """The path of an agent binary built from the current sources, building it if needed."""
    override = os.environ.get(OVERRIDE_ENV)
    if override:
        binary = Path(override)
        if not os.access(binary, os.X_OK):
            raise AgentBuildError(f"{OVERRIDE_ENV}={override} is not an executable file")
        return binary
    root = root or cache_root()
    digest = source_hash()
    binary = root / digest[:16] / BINARY_NAME
    if binary.is_file():
        problem = untrusted(binary)
        if problem is None:
            return binary
        progress(f"not using the cached agent {binary}: {problem}; building it again")
    binary.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
    binary.parent.chmod(0o755)
    # Built under a private name, then renamed: a concurrent build or reader never sees half a file.
    partial = binary.parent / f".{BINARY_NAME}.{os.getpid()}"
    started = time.monotonic()
    go = host_go()
    if go is not None:
        progress(f"building the agent ({digest[:16]}) with {go}")
        _build_on_host(go, partial, root)
    else:
        progress(f"building the agent ({digest[:16]}) in {BUILDER_IMAGE} (no go on this host)")
        _build_in_docker(partial, progress)
    partial.chmod(0o755)
    recorded = _digest_path(binary)
    partial_digest = recorded.with_name(f".{recorded.name}.{os.getpid()}")
    partial_digest.write_text(file_digest(partial) + "\n")
    partial_digest.replace(recorded)
    partial.replace(binary)
    progress(f"built {binary} in {time.monotonic() - started:.1f} s")
    return binary


def file_digest(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _digest_path(binary: Path) -> Path:
    return binary.with_name(binary.name + DIGEST_SUFFIX)


def untrusted(binary: Path) -> str | None:
    """Why a cached binary must not be run, or None when it may."""
    me = os.getuid()
    for path in (binary, binary.parent):
        info = path.stat()
        if info.st_uid != me:
            return f"{path} belongs to uid {info.st_uid}, not to us"
        if info.st_mode & 0o022:
            return f"{path} is writable by other users"
    try:
        recorded = _digest_path(binary).read_text().strip()
    except OSError:
        return "no digest was recorded when it was built"
    if file_digest(binary) != recorded:
        return "it does not match the digest recorded when it was built"
    return None


def _build_on_host(go: str, out: Path, cache: Path) -> None:
    done = subprocess.run(
        [go, *GO_BUILD_ARGS, "-o", str(out), "."],
        cwd=AGENT_SOURCE_DIR,
        env=go_environment(cache),
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        raise AgentBuildError(f"go build of the agent failed:\n{done.stdout}{done.stderr}")


def _build_in_docker(out: Path, progress: Progress) -> None:
    """Build in the builder image: the sources mounted read-only, the output directory writable,
    as the calling user (so the binary is ours), without a network."""
    from docker.errors import APIError, ContainerError

    from . import images  # imports docker: only on this path

    try:
        client = images.docker_client()
    except images.ImageBuildError:
        raise AgentBuildError(NOTHING_CAN_BUILD) from None
    if images.base_image_status(client, BUILDER_IMAGE) is images.ImageStatus.MISSING:
        images.ensure_base_image(progress=progress, client=client, base=BUILDER_IMAGE)
    with tempfile.TemporaryDirectory(prefix="lambkin-agent-build-") as tmp:
        Path(tmp).chmod(0o777)
        script = f"go {' '.join(_quote(a) for a in GO_BUILD_ARGS)} -o /out/{BINARY_NAME} ."
        try:
            logs = client.containers.run(
                BUILDER_IMAGE,
                ["sh", "-c", script],
                working_dir="/src",
                volumes={
                    str(AGENT_SOURCE_DIR): {"bind": "/src", "mode": "ro"},
                    tmp: {"bind": "/out", "mode": "rw"},
                },
                environment={
                    "CGO_ENABLED": "0",
                    "GOFLAGS": "-mod=mod",
                    "GOPROXY": "off",
                    "GOTOOLCHAIN": "local",
                    "GOCACHE": "/tmp/gocache",
                    "GOPATH": "/tmp/gopath",
                    "HOME": "/tmp",
                },
                user=f"{os.getuid()}:{os.getgid()}",
                network_mode="none",
                remove=True,
                stdout=True,
                stderr=True,
            )
        except ContainerError as exc:  # carries the build's output
            stderr = exc.stderr
            detail = stderr.decode(errors="replace") if isinstance(stderr, bytes) else str(exc)
            raise AgentBuildError(
                f"go build of the agent in {BUILDER_IMAGE} failed: {detail}"
            ) from None
        except APIError as exc:
            raise AgentBuildError(
                f"cannot run {BUILDER_IMAGE} to build the agent: {exc.explanation or exc}"
            ) from None
        for line in bytes(logs or b"").decode(errors="replace").splitlines():
            progress(line)
        shutil.copyfile(Path(tmp) / BINARY_NAME, out)


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"
