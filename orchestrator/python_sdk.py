"""The AWS SDK for Python that goes into lambkin/python3.11 (runtime-images/python/
sdk-requirements.txt): pure-Python wheels downloaded with this host's pip once per list of pins,
into a cache, and unpacked by the image's Dockerfile next to our runtime client.

Debian 12's python3-boto3 (botocore 1.29) predates the SDKs' `AWS_ENDPOINT_URL_<SERVICE>`
variables, so a function using it could not find the platform's API without code changes; the
host fetches the wheels so that building an image never needs the index from inside a build.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

Progress = Callable[[str], None]
# The Python of the image's base (Debian 12's python3): the wheels are pure, but pip picks the
# versions a 3.11 interpreter may install.
IMAGE_PYTHON = "3.11"


class SdkDownloadError(Exception):
    """pip could not fetch the wheels; the message says what to do."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "lambkin" / "python-sdk"


def wheels(requirements: Path, progress: Progress, *, root: Path | None = None) -> list[Path]:
    """The wheels the pins in `requirements` name, downloaded once, then reused."""
    pins = requirements.read_bytes()
    target = (root or cache_root()) / hashlib.sha256(pins).hexdigest()[:16]
    if (target / ".complete").is_file():
        progress(f"python sdk wheels: {target} (cached)")
        return sorted(target.glob("*.whl"))
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        args = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "-q"]
        args += ["--only-binary=:all:", "--no-deps", "--python-version", IMAGE_PYTHON]
        args += ["--dest", tmp, "-r", str(requirements)]
        progress(f"downloading the python sdk's wheels ({requirements.name}) with pip")
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SdkDownloadError(
                f"pip download failed (exit {done.returncode}): check that pip can reach a "
                f"package index from this host (pip config list), then build the images again. "
                f"{done.stderr.strip()[-500:]}"
            )
        Path(tmp, ".complete").touch()
        shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
        os.mkdir(tmp)  # for TemporaryDirectory's clean-up of the name it made
    progress(f"python sdk wheels: {target}")
    return sorted(target.glob("*.whl"))
