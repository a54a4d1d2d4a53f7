"""Building the runtime images: the offline Debian bases, then one image per runtime.

No container registry is involved. `runtime-images/base/build-base.sh` makes one base per runtime
family with mmdebstrap from the machine's apt sources (`lambkin/base-python:bookworm`: python3
with boto3; `lambkin/base-nodejs:bookworm`: Debian's nodejs; and so on, see `BASE_IMAGES`; and
`lambkin/base-go:bookworm`, Debian's golang-go, the builder of the agent binary where the host
has no go); each runtime image is then built FROM its family's base with the docker SDK, from a
build context assembled in a temporary directory (the runtime's Dockerfile and the runtime client
if it has one). The images carry no agent: the agent binary (`agent_binary.py`) is mounted
read-only into every instance as its entry point; `build` builds it first.

Each image carries the SHA-256 of exactly those files (`org.lambkin.source-hash`), so a stale
image is detected without rebuilding; the agent binary is cached by the hash of its own sources.
Every long operation reports progress, one line at a time, to a `Progress` callback.

    python -m orchestrator.images build [--force] [--all] [--runtime RUNTIME ...] [RUNTIME ...]
    python -m orchestrator.images list
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import subprocess
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any

import docker
from docker.errors import APIError, DockerException, ImageNotFound

from . import agent_binary, java_libs, pip_cache, python_sdk
from .runtimes import DEFAULT_IMAGE_PREFIX, image_under

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]

REPO_ROOT = Path(__file__).resolve().parent.parent
IMAGES_DIR = REPO_ROOT / "runtime-images"
BUILD_BASE_SCRIPT = IMAGES_DIR / "base" / "build-base.sh"
BASE_IMAGE = "lambkin/base-python:bookworm"  # the default base: the Python runtime's

LABEL_RUNTIME = "org.lambkin.runtime"
LABEL_SOURCE_HASH = "org.lambkin.source-hash"
LABEL_BASE_IMAGE = "org.lambkin.base-image"
LABEL_BASE_SOURCE_HASH = "org.lambkin.base-source-hash"  # set by build-base.sh

DOCKER_NOT_RUNNING = "Docker is not running: run scripts/ensure-docker.sh"
_SKIPPED_PARTS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class ImageBuildError(Exception):
    """A runtime image could not be built or inspected; the message says what to do next."""


DEFAULT_SUITE = "bookworm"  # Debian 12, the host's; build-base.sh's default


@dataclass(frozen=True)
class BaseImage:
    """One offline Debian base: ca-certificates plus these packages, from one Debian suite (the
    tag's own: `lambkin/base-python:trixie` is made from trixie)."""

    tag: str
    packages: tuple[str, ...] = ()
    suite: str = DEFAULT_SUITE

    @property
    def source_hash(self) -> str:
        """What build-base.sh stamps on the image: its own text, then the package list (then a
        space and the suite, for a suite other than bookworm)."""
        packages = ",".join(("ca-certificates", *self.packages))
        if self.suite != DEFAULT_SUITE:
            packages += f" {self.suite}"
        return hashlib.sha256(BUILD_BASE_SCRIPT.read_bytes() + packages.encode()).hexdigest()

    def stamped_current(self, stamp: str | None) -> bool:
        """Whether a base's stamp says it is what build-base.sh makes of it today."""
        if stamp == self.source_hash:
            return True
        packages = ",".join(("ca-certificates", *self.packages))
        return self.suite == DEFAULT_SUITE and stamp == _BOOKWORM_STAMPS_BEFORE_SUITES.get(packages)


# The stamps of build-base.sh as it was before it took a suite (LAMBKIN_BASE_SUITE), by package
# list: that change left what it makes of bookworm as it was, so the bookworm bases stamped then
# stay current rather than asking every machine to rebuild them. Drop an entry when its package
# list changes; drop them all when build-base.sh next changes what a bookworm base holds.
_BOOKWORM_STAMPS_BEFORE_SUITES = {
    "ca-certificates,python3,python3-boto3": (
        "a4aa4e573e8f84c4a8da5efc430359da71bb3a329666cb57ac798a4ddc64ee34"
    ),
    "ca-certificates,python3,curl": (
        "1aba2e7406f3ef7f4caa3e15e476c9ea5ed8e2e6b538650d4a34f79125ad8eda"
    ),
    "ca-certificates,nodejs": "bb05ac3011208a320d0ecc8ccfdf369303ea78b494be8aa6e209fdafe6f91259",
    "ca-certificates,ruby": "07519c5438b3f14bca0856414da6d562209f8afaeb9b3e49b781a2a4738ae153",
    "ca-certificates,openjdk-17-jdk-headless,libjackson2-databind-java": (
        "a8dc2ea18bac3cde4570d3048949739ab06a8400367c32b8f8be055284a2b47a"
    ),
    "ca-certificates,golang-go": (
        "5d96ce2be1e91f1fac529d6ecef93472c551a928557e9c31ea9f965d8c8de711"
    ),
    "ca-certificates,python3,python3-venv,iptables": (
        "a312f6a27beeabc1d2397b3554b9b34baea6e2ce8a68e1634f2797e1a4e927f6"
    ),
    "ca-certificates,prometheus": (
        "64fa2bc5fb0fb4c9b76050c264d16f4f4f29811f4cfef0667f0393a1f4dd999b"
    ),
}


def family_base(family: str, suite: str, packages: tuple[str, ...]) -> BaseImage:
    """A runtime family's base from one suite: `lambkin/base-<family>:<suite>`."""
    return BaseImage(f"lambkin/base-{family}:{suite}", packages, suite)


# The newer languages come from newer Debian suites, served by the same mirrors: Debian 13
# "trixie" (Python 3.13, Node.js 20, Ruby 3.3, OpenJDK 21 and 25) and testing, "forky" (Python
# 3.14, Node.js 24). Each names its language's versioned package where Debian has one, so that a
# suite moving on to another version fails the base's build instead of changing the language.
TRIXIE_BASES = (
    family_base("python", "trixie", ("python3", "python3.13")),
    family_base("nodejs", "trixie", ("nodejs",)),  # 20.19
    family_base("ruby", "trixie", ("ruby", "ruby3.3")),
    family_base("java21", "trixie", ("openjdk-21-jdk-headless", "libjackson2-databind-java")),
    family_base("java25", "trixie", ("openjdk-25-jdk-headless", "libjackson2-databind-java")),
    # Mono 6.12 and its C# compiler (mcs): the image compiles our runtime client, and function
    # code compiled for Lambda references the assemblies these give (System.dll, System.Core.dll,
    # System.Runtime.Serialization.dll, System.Net.Http.dll).
    family_base(
        "mono",
        "trixie",
        (
            "mono-runtime",
            "mono-mcs",
            "libmono-system4.0-cil",
            "libmono-system-core4.0-cil",
            "libmono-system-runtime-serialization4.0-cil",
            "libmono-system-net-http4.0-cil",
        ),
    ),
)
FORKY_BASES = (
    family_base("python", "forky", ("python3", "python3.14")),
    family_base("nodejs", "forky", ("nodejs",)),  # 24.x
)

# Debian 12 package names unless the suite says otherwise; no recommends are installed.
BASE_IMAGES: dict[str, BaseImage] = {
    base.tag: base
    for base in (
        # Debian's boto3 stays in the base for images users build FROM it; lambkin/python3.11
        # carries a current one of its own (sdk-requirements.txt, python_sdk.py).
        BaseImage(BASE_IMAGE, ("python3", "python3-boto3")),
        # python3 only for tests/conformance/test_awslambdaric_in_lambkin.py (AWS's Python client
        # started by a provided function's bootstrap); curl as AWS's provided images have it.
        BaseImage("lambkin/base-provided:bookworm", ("python3", "curl")),
        BaseImage("lambkin/base-nodejs:bookworm", ("nodejs",)),
        BaseImage("lambkin/base-ruby:bookworm", ("ruby",)),
        # The JDK (not only the JRE): the image compiles the Java runtime client while building.
        BaseImage(
            "lambkin/base-java:bookworm", ("openjdk-17-jdk-headless", "libjackson2-databind-java")
        ),
        # Not a runtime family: builds the agent binary where the host has no go.
        BaseImage(agent_binary.BUILDER_IMAGE, ("golang-go",)),
        *TRIXIE_BASES,
        *FORKY_BASES,
    )
}


class ImageStatus(StrEnum):
    MISSING = "missing"
    STALE = "stale"
    CURRENT = "current"


@dataclass(frozen=True)
class RuntimeImage:
    """One runtime's image: its tag, its Dockerfile, and the runtime client copied into it."""

    runtime: str
    tag: str
    dockerfile_dir: Path
    runtime_client: Path | None = None  # a package directory, copied under its own name
    base: str = BASE_IMAGE  # a key of BASE_IMAGES
    # Pinned wheels to put in the context's sdk/ folder (python_sdk.py): the pins are hashed,
    # the wheels they name are fetched when the image is built.
    sdk_requirements: Path | None = None
    # Maven coordinates of jars to put in the context's lib/ folder (java_libs.py): the pins are
    # hashed, the jars they name are fetched when the image is built.
    java_libs: Path | None = None

    def tag_for(self, prefix: str) -> str:
        """The image's tag under an image prefix (settings.image_prefix); `tag` is the default's."""
        return image_under(prefix, self.tag)

    def context_files(self) -> list[tuple[str, Path]]:
        """(path in the build context, source file) for every file that goes into the image."""
        files = [("Dockerfile", self.dockerfile_dir / "Dockerfile")]
        if self.runtime_client is not None:
            files += tree_files(self.runtime_client.name, self.runtime_client)
        for pins in (self.sdk_requirements, self.java_libs):
            if pins is not None:
                files.append((pins.name, pins))
        return sorted(files)

    def fetched_files(self, progress: Progress) -> list[tuple[str, Path]]:
        """What the build adds beyond the hashed sources: the wheels and jars the pins name."""
        files: list[tuple[str, Path]] = []
        try:
            if self.sdk_requirements is not None:
                found = python_sdk.wheels(self.sdk_requirements, progress)
                files += [(f"sdk/{wheel.name}", wheel) for wheel in found]
            if self.java_libs is not None:
                files += [
                    (f"lib/{jar.name}", jar) for jar in java_libs.jars(self.java_libs, progress)
                ]
        except (pip_cache.PipFailed, java_libs.MavenFailed) as exc:
            raise ImageBuildError(str(exc)) from None
        return files


JAVA_LIBS = IMAGES_DIR / "java" / "java-libs.txt"


def _python_image(runtime: str, base: str) -> RuntimeImage:
    """A Python runtime's image: our client and the pinned AWS SDK, as python3.11's."""
    return RuntimeImage(
        runtime,
        f"lambkin/{runtime}",
        IMAGES_DIR / "python",
        IMAGES_DIR / "python" / "lambkin_runtime",
        base=base,
        sdk_requirements=IMAGES_DIR / "python" / "sdk-requirements.txt",
    )


_CLIENTS = {
    "nodejs": "lambkin_runtime_node",
    "ruby": "lambkin_runtime_ruby",
    "java": "lambkin_runtime_java",
    "csharp": "lambkin_runtime_csharp",
}


def _client_image(runtime: str, family: str, base: str) -> RuntimeImage:
    """A runtime's image from its family's Dockerfile and client, FROM another suite's base."""
    return RuntimeImage(
        runtime,
        f"lambkin/{runtime}",
        IMAGES_DIR / family,
        IMAGES_DIR / family / _CLIENTS[family],
        base=base,
        java_libs=JAVA_LIBS if family == "java" else None,
    )


RUNTIME_IMAGES: dict[str, RuntimeImage] = {
    image.runtime: image
    for image in (
        RuntimeImage(
            "python3.11",
            "lambkin/python3.11",
            IMAGES_DIR / "python",
            IMAGES_DIR / "python" / "lambkin_runtime",
            sdk_requirements=IMAGES_DIR / "python" / "sdk-requirements.txt",
        ),
        RuntimeImage(
            "nodejs18.x",
            "lambkin/nodejs18.x",
            IMAGES_DIR / "nodejs",
            IMAGES_DIR / "nodejs" / "lambkin_runtime_node",
            base="lambkin/base-nodejs:bookworm",
        ),
        RuntimeImage(
            "ruby3.1",
            "lambkin/ruby3.1",
            IMAGES_DIR / "ruby",
            IMAGES_DIR / "ruby" / "lambkin_runtime_ruby",
            base="lambkin/base-ruby:bookworm",
        ),
        RuntimeImage(
            "java17",
            "lambkin/java17",
            IMAGES_DIR / "java",
            IMAGES_DIR / "java" / "lambkin_runtime_java",
            base="lambkin/base-java:bookworm",
            java_libs=JAVA_LIBS,
        ),
        _python_image("python3.13", "lambkin/base-python:trixie"),
        _python_image("python3.14", "lambkin/base-python:forky"),
        _client_image("nodejs20.x", "nodejs", "lambkin/base-nodejs:trixie"),
        _client_image("nodejs24.x", "nodejs", "lambkin/base-nodejs:forky"),
        _client_image("ruby3.3", "ruby", "lambkin/base-ruby:trixie"),
        _client_image("java21", "java", "lambkin/base-java21:trixie"),
        _client_image("java25", "java", "lambkin/base-java25:trixie"),
        _client_image("mono6.12", "csharp", "lambkin/base-mono:trixie"),
        RuntimeImage(
            "provided.al2023",
            "lambkin/provided.al2023",
            IMAGES_DIR / "provided",
            base="lambkin/base-provided:bookworm",
        ),
    )
}


def tree_files(prefix: str, root: Path) -> list[tuple[str, Path]]:
    if not root.is_dir():
        raise ImageBuildError(f"{root} is missing: run Lambkin from a source checkout")
    files = [
        (f"{prefix}/{path.relative_to(root).as_posix()}", path)
        for path in root.rglob("*")
        if path.is_file()
        and path.suffix not in _SKIPPED_SUFFIXES
        and not _SKIPPED_PARTS.intersection(path.relative_to(root).parts)
    ]
    if not files:
        raise ImageBuildError(f"{root} has no files to put in the image: check out the full source")
    return files


def runtime_image(runtime: str) -> RuntimeImage:
    try:
        return RUNTIME_IMAGES[runtime]
    except KeyError:
        known = ", ".join(RUNTIME_IMAGES)
        raise ImageBuildError(f"no image for runtime {runtime!r}: choose one of {known}") from None


def source_hash(runtime: str) -> str:
    """SHA-256 over the names and contents of every file that goes into the runtime's image."""
    return hash_context(read_context(runtime_image(runtime).context_files()))


# (name in the build context, content, mode) of each file: read once, so that what is hashed is
# what is built.
Context = list[tuple[str, bytes, int]]


def read_context(files: Sequence[tuple[str, Path]]) -> Context:
    """Read (name in the build context, source file) pairs into a Context."""
    return [(name, path.read_bytes(), path.stat().st_mode) for name, path in files]


def hash_context(context: Context) -> str:
    """SHA-256 over the names and contents of a build context (what the source-hash label holds)."""
    digest = hashlib.sha256()
    for name, content, _ in context:
        digest.update(name.encode() + b"\0")
        digest.update(hashlib.sha256(content).digest())
    return digest.hexdigest()


def docker_client(timeout: int = 300) -> docker.DockerClient:
    """A client for the local engine, or an error telling how to start one."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (DockerException, OSError) as exc:  # requests' errors are OSErrors
        raise ImageBuildError(f"{DOCKER_NOT_RUNNING} ({exc})") from exc
    return client


def image_status(
    runtime: str,
    client: docker.DockerClient | None = None,
    prefix: str = DEFAULT_IMAGE_PREFIX,
) -> ImageStatus:
    """missing; stale (its sources changed, or its base image was rebuilt since); or current."""
    spec = runtime_image(runtime)
    client = client or docker_client()
    try:
        image = client.images.get(spec.tag_for(prefix))
    except ImageNotFound:
        return ImageStatus.MISSING
    labels = image.labels or {}
    if labels.get(LABEL_SOURCE_HASH) != source_hash(runtime):
        return ImageStatus.STALE
    if not _built_on_current_base(client, image.attrs, labels.get(LABEL_BASE_IMAGE)):
        return ImageStatus.STALE
    return ImageStatus.CURRENT


def base_spec(base: str | BaseImage) -> BaseImage:
    """A base image by its tag (one of BASE_IMAGES), or as given (another module's base)."""
    return base if isinstance(base, BaseImage) else BASE_IMAGES[base]


def base_image_status(
    client: docker.DockerClient | None = None, base: str | BaseImage = BASE_IMAGE
) -> ImageStatus:
    """missing; stale (build-base.sh or the package list changed since it was built); or current."""
    spec = base_spec(base)
    client = client or docker_client()
    try:
        image = client.images.get(spec.tag)
    except ImageNotFound:
        return ImageStatus.MISSING
    current = spec.stamped_current((image.labels or {}).get(LABEL_BASE_SOURCE_HASH))
    return ImageStatus.CURRENT if current else ImageStatus.STALE


def _built_on_current_base(
    client: docker.DockerClient, attrs: dict[str, Any], base_tag: str | None
) -> bool:
    """Whether the image's layers start with those of its base as it is now (if still present)."""
    if not base_tag:
        return True
    try:
        base = client.images.get(base_tag)
    except ImageNotFound:
        return True  # nothing to compare with; the image itself still works
    base_layers = base.attrs["RootFS"]["Layers"]
    return bool(attrs["RootFS"]["Layers"][: len(base_layers)] == base_layers)


def ensure_base_image(
    force: bool = False,
    progress: Progress = logger.info,
    client: docker.DockerClient | None = None,
    base: str | BaseImage = BASE_IMAGE,
) -> None:
    """Build a base image with build-base.sh, unless it exists (or `force`)."""
    spec = base_spec(base)
    base = spec.tag
    if not force and base_image_status(client, spec) is ImageStatus.STALE:
        progress(
            f"note: {base} predates the last change to {BUILD_BASE_SCRIPT.name} or its package "
            "list; run `lambkin images build --force` to rebuild it"
        )
    args = ["bash", str(BUILD_BASE_SCRIPT)] + (["--force"] if force else [])
    env = {
        **os.environ,
        "LAMBKIN_BASE_IMAGE": base,
        "LAMBKIN_BASE_PACKAGES": ",".join(spec.packages),
        "LAMBKIN_BASE_SUITE": spec.suite,
    }
    tail: deque[str] = deque(maxlen=5)
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                progress(line)
                tail.append(line)
    if proc.returncode != 0:
        raise ImageBuildError(
            f"building the base image {base} failed (exit {proc.returncode}): " + " | ".join(tail)
        )


def build_image(
    runtime: str,
    progress: Progress = logger.info,
    *,
    base_image: str | None = None,
    nocache: bool = False,
    client: docker.DockerClient | None = None,
    prefix: str = DEFAULT_IMAGE_PREFIX,
) -> str:
    """Build one runtime image FROM `base_image` (default: its family's base), tagged under
    `prefix`, streaming each build step; returns its id."""
    spec = runtime_image(runtime)
    base_image = base_image or spec.base
    client = client or docker_client()
    try:
        client.images.get(base_image)
    except ImageNotFound:
        raise ImageBuildError(
            f"base image {base_image} is missing: run `lambkin images build` "
            "(or runtime-images/base/build-base.sh)"
        ) from None
    context = read_context(spec.context_files())
    buildargs = {
        "BASE_IMAGE": base_image,
        "LAMBKIN_SOURCE_HASH": hash_context(context),
        "LAMBKIN_RUNTIME": runtime,
    }
    return build_context(
        spec.tag_for(prefix),
        context + read_context(spec.fetched_files(progress)),
        progress,
        buildargs=buildargs,
        labels={LABEL_BASE_IMAGE: base_image},
        nocache=nocache,
        client=client,
    )


def build_context(
    tag: str,
    context: Context,
    progress: Progress = logger.info,
    *,
    buildargs: dict[str, str],
    labels: dict[str, str],
    nocache: bool = False,
    client: docker.DockerClient | None = None,
) -> str:
    """Build `tag` from the Dockerfile in `context` (written to a temporary directory), streaming
    each build step; returns the image's id. Never pulls: bases are built here."""
    client = client or docker_client()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="lambkin-build-") as tmp:
        for name, content, mode in context:
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            target.chmod(stat.S_IMODE(mode))
        progress(f"building {tag} from {buildargs.get('BASE_IMAGE', 'its Dockerfile')}")
        try:
            chunks = client.api.build(
                path=tmp,
                tag=tag,
                buildargs=buildargs,
                labels=labels,
                nocache=nocache,
                pull=False,
                rm=True,
                forcerm=True,
                decode=True,
            )
            image_id = follow_build(tag, chunks, progress)
        except APIError as exc:
            raise ImageBuildError(f"building {tag} failed: {exc.explanation or exc}") from exc
    progress(f"built {tag} in {time.monotonic() - started:.1f} s")
    return image_id


def follow_build(tag: str, chunks: Iterator[dict[str, Any]], progress: Progress) -> str:
    image_id = ""
    for chunk in chunks:
        if "error" in chunk:
            message = chunk.get("errorDetail", {}).get("message") or chunk["error"]
            raise ImageBuildError(
                f"building {tag} failed: {message.strip()} (fix the Dockerfile or the files it "
                "copies, then run `lambkin images build` again)"
            )
        for line in str(chunk.get("stream") or chunk.get("status") or "").splitlines():
            if line.strip():
                progress(line.rstrip())
        image_id = chunk.get("aux", {}).get("ID", image_id)
    if not image_id:
        raise ImageBuildError(f"building {tag} ended without an image: see the output above")
    return image_id


BuildStep = tuple[str, Callable[[Progress], object]]

# What `build` makes when given no runtime: those on Debian 12 bases (the host's suite), which
# the demo, the process driver's peers and most of the suite use; a few minutes on a fresh
# machine. The newer suites' runtimes (python3.13, nodejs20.x, java21, ...) are built when named,
# or all with `build --all` (what `make test` runs).
DEFAULT_RUNTIMES: tuple[str, ...] = tuple(
    runtime
    for runtime, spec in RUNTIME_IMAGES.items()
    if BASE_IMAGES[spec.base].suite == DEFAULT_SUITE
)


def build_steps(
    *,
    force: bool = False,
    runtimes: Sequence[str] = (),
    client: docker.DockerClient | None = None,
    prefix: str = DEFAULT_IMAGE_PREFIX,
) -> list[BuildStep]:
    """What `build_all` does, as (description, work) pairs, so a UI can show each phase: the
    agent binary (built once per version of its sources), the base images the selected runtimes
    need (each only if missing, unless `force`), each runtime image (those given, else
    `DEFAULT_RUNTIMES`;
    Docker's layer cache makes an unchanged one a quick no-op), then removal of the images they
    replaced."""
    selected = list(dict.fromkeys(runtime_image(r).runtime for r in runtimes)) or list(
        DEFAULT_RUNTIMES
    )
    docker_ = client or docker_client()
    bases = list(dict.fromkeys(RUNTIME_IMAGES[r].base for r in selected))
    steps: list[BuildStep] = [("agent binary", _build_agent)]
    steps += [(f"base image {base}", partial(_ensure_base, base, force, docker_)) for base in bases]
    for runtime in selected:
        build = partial(build_image, runtime, nocache=force, client=docker_, prefix=prefix)
        steps.append((RUNTIME_IMAGES[runtime].tag_for(prefix), build))
    if "java17" in selected:
        steps.append(("Java client jars for this host", build_host_java_client))
    steps.append(("removing replaced images", lambda p: prune_replaced(docker_, p)))
    return steps


JAVA_CLIENT_DIR = IMAGES_DIR / "java" / "lambkin_runtime_java"
JAVA_HOST_BUILD_DIR = IMAGES_DIR / "java" / "build"  # gitignored


def build_host_java_client(
    progress: Progress = logger.info, out: Path = JAVA_HOST_BUILD_DIR
) -> bool:
    """Compile the Java runtime client on this host against AWS's jars (java-libs.txt, fetched
    with mvn into a cache), for the process driver: `out` then holds the runtime's classpath.
    Skipped, returning False, without a JDK."""
    missing = [tool for tool in ("javac", "jar") if shutil.which(tool) is None]
    if missing:
        progress(
            "skipped: no JDK on this host (apt-get install default-jdk-headless maven; "
            "scripts/ensure-host-runtimes.sh does it)"
        )
        return False
    try:
        jars = java_libs.jars(JAVA_LIBS, progress)
    except java_libs.MavenFailed as exc:
        raise ImageBuildError(str(exc)) from None
    result = subprocess.run(
        ["sh", str(JAVA_CLIENT_DIR / "build.sh"), str(out), str(jars[0].parent)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    for line in result.stdout.splitlines():
        progress(line)
    if result.returncode != 0:
        raise ImageBuildError(
            f"compiling the Java runtime client failed (exit {result.returncode})"
        )
    progress(f"compiled {out}/lambkin-java-runtime.jar beside {', '.join(j.name for j in jars)}")
    return True


def _build_agent(progress: Progress) -> None:
    try:
        progress(f"agent binary: {agent_binary.agent_binary(progress)}")
    except agent_binary.AgentBuildError as exc:
        raise ImageBuildError(str(exc)) from exc


def _ensure_base(base: str, force: bool, client: docker.DockerClient, progress: Progress) -> None:
    ensure_base_image(force, progress, client, base)


def build_all(
    progress: Progress = logger.info,
    *,
    force: bool = False,
    runtimes: Sequence[str] = (),
    client: docker.DockerClient | None = None,
) -> None:
    """Run every step of `build_steps`, reporting to `progress`."""
    for _, work in build_steps(force=force, runtimes=runtimes, client=client):
        work(progress)


def prune_replaced(client: docker.DockerClient, progress: Progress = logger.info) -> None:
    """Remove our untagged images (those a rebuild replaced); never anyone else's."""
    result = client.images.prune(filters={"dangling": True, "label": LABEL_BASE_SOURCE_HASH})
    removed = [d for d in result.get("ImagesDeleted") or [] if "Deleted" in d]
    if removed:
        reclaimed = (result.get("SpaceReclaimed") or 0) / 1e6
        progress(f"removed {len(removed)} replaced image layer(s), {reclaimed:.0f} MB")


if __name__ == "__main__":
    from .images_cli import main

    raise SystemExit(main())
