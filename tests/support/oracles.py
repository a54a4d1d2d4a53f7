"""The official AWS pieces we test against, fetched from PyPI at test time into a cache folder.

- the Runtime Interface Emulator binary, shipped inside the aws-sam-cli wheel;
- awslambdaric, AWS's Python runtime client, installed into a folder that can go into a zip;
- AWS's X-Ray SDK for Python, likewise, for functions that send segments.

Nothing here is committed to the repository; the cache lives in $LAMBKIN_CACHE_DIR
(default ~/.cache/lambkin/oracles).
"""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

RIE_MEMBER = "samcli/local/rapid/aws-lambda-rie-x86_64"


def cache_dir() -> Path:
    root = Path(os.environ.get("LAMBKIN_CACHE_DIR", Path.home() / ".cache" / "lambkin" / "oracles"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def locked(name: str) -> Iterator[None]:
    """Serialise fetches across parallel test processes."""
    with open(cache_dir() / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _pip(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def rie_binary() -> Path:
    """Path to the official aws-lambda-rie binary (x86_64), fetched once."""
    target = cache_dir() / "aws-lambda-rie"
    with locked("rie"):
        if not target.exists():
            with tempfile.TemporaryDirectory() as tmp:
                _pip("download", "--no-deps", "-d", tmp, "aws-sam-cli")
                wheel = next(Path(tmp).glob("aws_sam_cli-*.whl"))
                with zipfile.ZipFile(wheel) as zf, zf.open(RIE_MEMBER) as src:
                    partial = target.with_suffix(".partial")
                    partial.write_bytes(src.read())
                    partial.chmod(
                        partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
                    )
                    partial.rename(target)
    return target


def awslambdaric_dir() -> Path:
    """A folder with awslambdaric and its dependencies installed (pip --target), fetched once.

    Built for this interpreter (CPython 3.11), which is also what the runtime images carry.
    """
    target = cache_dir() / "awslambdaric"
    with locked("awslambdaric"):
        if not (target / "awslambdaric").is_dir():
            partial = cache_dir() / "awslambdaric.partial"
            subprocess.run(["rm", "-rf", str(partial)], check=True)
            _pip("install", "--no-compile", "--target", str(partial), "awslambdaric")
            partial.rename(target)
    return target


XRAY_SDK = "aws-xray-sdk==2.15.0"


def xray_sdk_dir() -> Path:
    """A folder with AWS's X-Ray SDK for Python and wrapt (pip --target, no botocore: the
    runtime image carries it), fetched once: what a function zip bundles to send segments."""
    target = cache_dir() / "aws-xray-sdk"
    with locked("aws-xray-sdk"):
        if not (target / "aws_xray_sdk").is_dir():
            partial = cache_dir() / "aws-xray-sdk.partial"
            subprocess.run(["rm", "-rf", str(partial)], check=True)
            _pip("install", "--no-compile", "--no-deps", "--target", str(partial), XRAY_SDK)
            _pip("install", "--no-compile", "--no-deps", "--target", str(partial), "wrapt")
            partial.rename(target)
    return target
