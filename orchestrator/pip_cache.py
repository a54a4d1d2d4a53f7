"""Wheels fetched with this host's pip into a cache folder, once per content key: the stack's
server image (stack_images.py) and the Python runtime image's SDK (python_sdk.py) use it.

A folder is complete or absent: pip writes into a temporary sibling that is renamed into place
only when pip succeeded, so an interrupted build never leaves half a wheelhouse to reuse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

Progress = Callable[[str], None]


class PipFailed(Exception):
    """pip could not fetch or build the wheels; the message says what to do."""


def cache_root(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambkin" / name


def wheels_once(
    target: Path,
    pip_args: Callable[[Path], list[str]],
    progress: Progress,
    prepare: Callable[[Path], None] = lambda folder: None,
) -> Path:
    """`target`, filled by `pip <pip_args(folder)>` unless an earlier call filled it.
    `prepare` writes what pip reads (a requirements file) first."""
    if target.is_dir():
        progress(f"{target} (cached)")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".building-"))
    try:
        prepare(tmp)
        args = [sys.executable, "-m", "pip", *pip_args(tmp), "--disable-pip-version-check", "-q"]
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        for line in (done.stdout + done.stderr).splitlines():
            if line.strip():
                progress(line)
        if done.returncode != 0:
            raise PipFailed(
                f"pip {args[3]} failed (exit {done.returncode}): check that pip can reach a "
                "package index from this host (pip config list), then build again"
            )
        shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)  # complete, or not there at all
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
