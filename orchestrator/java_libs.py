"""AWS's Java libraries for lambkin/java17 and the process driver's host build
(runtime-images/java/java-libs.txt): aws-lambda-java-core and aws-lambda-java-serialization,
fetched from Maven with this host's `mvn dependency:copy` once per list of pins, into a cache
folder, never into the repository.

The runtime client is compiled against them and they are its classpath, as on AWS: users compile
against the same `aws-lambda-java-core` and bundle `aws-lambda-java-events` (or anything else)
in their zip's lib/, and the serialization jar's own (shaded) Jackson reads those event classes
with AWS's mixins.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from .pip_cache import cache_root

Progress = Callable[[str], None]

_COORDINATE = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+$")


class MavenFailed(Exception):
    """mvn could not fetch the jars; the message says what to do."""


def coordinates(pins: Path) -> list[str]:
    """The `group:artifact:version` lines of a pin file (comments and blank lines skipped)."""
    found = []
    for line in pins.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if not _COORDINATE.match(line):
            raise MavenFailed(f"{pins}: {line!r} is not group:artifact:version")
        found.append(line)
    return found


def jar_name(coordinate: str) -> str:
    """`com.amazonaws:aws-lambda-java-core:1.4.0` -> `aws-lambda-java-core-1.4.0.jar`."""
    _, artifact, version = coordinate.split(":")
    return f"{artifact}-{version}.jar"


def jars(pins: Path, progress: Progress, *, root: Path | None = None) -> list[Path]:
    """The jars the pins name, fetched once into a cache folder keyed by the pins, then reused."""
    wanted = coordinates(pins)
    key = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:16]
    target = (root or cache_root("java-libs")) / key
    if target.is_dir():
        progress(f"java libraries ({pins.name}): {target} (cached)")
    else:
        _fetch(wanted, target, progress)
    return [target / jar_name(coordinate) for coordinate in wanted]


def _fetch(wanted: list[str], target: Path, progress: Progress) -> None:
    if shutil.which("mvn") is None:
        raise MavenFailed(
            "mvn is not installed: apt-get install maven (scripts/ensure-host-runtimes.sh does "
            "it), then build again"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".building-"))
    try:
        for coordinate in wanted:
            progress(f"java libraries: mvn dependency:copy {coordinate}")
            done = subprocess.run(
                ["mvn", "-B", "-q", "dependency:copy", f"-Dartifact={coordinate}"]
                + [f"-DoutputDirectory={tmp}"],
                cwd=tmp,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0 or not (tmp / jar_name(coordinate)).is_file():
                for line in (done.stdout + done.stderr).splitlines()[-20:]:
                    progress(line)
                raise MavenFailed(
                    f"mvn dependency:copy {coordinate} failed (exit {done.returncode}): check "
                    "that Maven can reach its repository from this host, then build again"
                )
        shutil.rmtree(target, ignore_errors=True)
        os.rename(tmp, target)  # complete, or not there at all
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
