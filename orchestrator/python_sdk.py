"""The AWS SDK for Python that goes into lambkin/python3.11 (runtime-images/python/
sdk-requirements.txt): pure-Python wheels downloaded with this host's pip once per list of pins,
into a cache, and unpacked by the image's Dockerfile next to our runtime client.

Debian 12's python3-boto3 (botocore 1.29) predates the SDKs' `AWS_ENDPOINT_URL_<SERVICE>`
variables, so a function using it could not find the platform's API without code changes; the
host fetches the wheels so that building an image never needs the index from inside a build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from . import pip_cache

Progress = Callable[[str], None]
# The Python of the image's base (Debian 12's python3): the wheels are pure, but pip picks the
# versions a 3.11 interpreter may install.
IMAGE_PYTHON = "3.11"


def wheels(requirements: Path, progress: Progress, *, root: Path | None = None) -> list[Path]:
    """The wheels the pins in `requirements` name, downloaded once, then reused."""
    key = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    target = (root or pip_cache.cache_root("python-sdk")) / key
    progress(f"python sdk wheels ({requirements.name}): {target}")
    folder = pip_cache.wheels_once(
        target,
        lambda tmp: [
            "download",
            "--only-binary=:all:",
            "--no-deps",
            "--python-version",
            IMAGE_PYTHON,
            "--dest",
            str(tmp),
            "-r",
            str(requirements),
        ],  # fmt: skip
        progress,
    )
    return sorted(folder.glob("*.whl"))
