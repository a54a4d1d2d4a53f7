"""Libraries a test function bundles (pip --target), fetched once into the cache folder at test
time; nothing is committed. Built for this interpreter (CPython 3.11), which is also what the
python3.11 image runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.oracles import cache_dir, locked


def vendored(name: str, *requirements: str) -> Path:
    """A folder holding `requirements` installed, to zip beside a handler."""
    target = cache_dir() / f"vendored-{name}"
    with locked(f"vendored-{name}"):
        if not (target / ".complete").exists():
            partial = cache_dir() / f"vendored-{name}.partial"
            subprocess.run(["rm", "-rf", str(partial), str(target)], check=True)
            subprocess.run(
                [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install",
                 "--no-compile", "--target", str(partial), *requirements],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            (partial / ".complete").write_text("\n".join(requirements))
            partial.rename(target)
    return target
