"""The team stack's images (deploy/compose.yaml): the control plane and Prometheus.

Made as the runtime images are (images.py): an offline Debian base per image from the
machine's apt sources (mmdebstrap + `docker import`: no registry), then a Dockerfile under
`deploy/` built FROM it with the docker SDK, from a build context assembled here:

- `lambkin/server`: `deploy/server/`, the control plane's sources (`orchestrator/`), the agent
  binary (agent_binary.py) and its Python dependencies as wheels built on this host with pip
  (cached by the dependency list and Python version in `~/.cache/lambkin/server-wheels/`);
- `lambkin/prometheus`: `deploy/prometheus/`, Debian's prometheus package.

Each image carries the SHA-256 of its context (`org.lambkin.source-hash`), as the runtime images
do. Every step reports progress, one line at a time.

    python -m orchestrator.stack_images build [--force]     (`make server-image`)
        [--server-base IMAGE] [--prometheus-base IMAGE]     (FROM an official image instead)
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import platform
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import docker
from docker.errors import ImageNotFound

from . import agent_binary, pip_cache
from .images import (
    LABEL_BASE_IMAGE,
    LABEL_SOURCE_HASH,
    REPO_ROOT,
    BaseImage,
    BuildStep,
    Context,
    ImageBuildError,
    Progress,
    build_context,
    docker_client,
    ensure_base_image,
    hash_context,
    prune_replaced,
    read_context,
    tree_files,
)

logger = logging.getLogger(__name__)

DEPLOY_DIR = REPO_ROOT / "deploy"
PYPROJECT = REPO_ROOT / "pyproject.toml"
# The Python of Lambkin's server base (Debian 12's python3): the wheels must be built for it.
BASE_PYTHON = (3, 11)


@dataclass(frozen=True)
class StackImage:
    """One image of the stack: its tag, the directory of its Dockerfile, its default base."""

    tag: str
    dockerfile_dir: Path
    base: BaseImage


SERVER = StackImage(
    "lambkin/server",
    DEPLOY_DIR / "server",
    # iptables: the docker driver's host firewall (drivers/host_firewall.py).
    BaseImage("lambkin/base-server:bookworm", ("python3", "python3-venv", "iptables")),
)
PROMETHEUS = StackImage(
    "lambkin/prometheus",
    DEPLOY_DIR / "prometheus",
    BaseImage("lambkin/base-prometheus:bookworm", ("prometheus",)),
)
STACK_IMAGES = (SERVER, PROMETHEUS)


def dependencies(pyproject: Path = PYPROJECT) -> list[str]:
    """The control plane's runtime requirements, as pyproject.toml lists them."""
    project = tomllib.loads(pyproject.read_text())["project"]
    return sorted(str(requirement) for requirement in project["dependencies"])


def wheels_root() -> Path:
    return pip_cache.cache_root("server-wheels")


def wheelhouse(progress: Progress = logger.info, *, root: Path | None = None) -> Path:
    """A directory of wheels for every dependency, and `requirements.txt` naming them: built
    with this host's pip once per dependency list and Python version, then reused."""
    requirements = "\n".join(dependencies()) + "\n"
    python = f"cp{sys.version_info.major}{sys.version_info.minor}-{platform.machine()}"
    key = hashlib.sha256(f"{python}\n{requirements}".encode()).hexdigest()[:16]
    target = (root or wheels_root()) / key
    if not target.is_dir() and sys.version_info[:2] != BASE_PYTHON:
        progress(
            f"note: this host's Python is {sys.version_info.major}.{sys.version_info.minor}, the "
            f"server base's {BASE_PYTHON[0]}.{BASE_PYTHON[1]}: compiled wheels will not fit it, "
            "so the image build fetches them from the package index instead"
        )
    progress(f"wheels for {len(requirements.split())} dependencies: {target}")

    def write_requirements(folder: Path) -> None:
        (folder / "requirements.txt").write_text(requirements)  # server_files copies it too

    try:
        folder = pip_cache.wheels_once(
            target,
            lambda tmp: ["wheel", "--wheel-dir", str(tmp), "-r", str(tmp / "requirements.txt")],
            progress,
            prepare=write_requirements,
        )
    except pip_cache.PipFailed as exc:
        raise ImageBuildError(f"{exc} (`make server-image`)") from None
    return folder


def server_files(wheels: Path, agent: Path) -> list[tuple[str, Path]]:
    """(path in the build context, source file) for every file of the server image."""
    files = [
        ("Dockerfile", SERVER.dockerfile_dir / "Dockerfile"),
        ("entrypoint.sh", SERVER.dockerfile_dir / "entrypoint.sh"),
        ("lambkin-agent", agent),
    ]
    files += [(f"wheels/{path.name}", path) for path in sorted(wheels.iterdir()) if path.is_file()]
    files += tree_files("app/orchestrator", REPO_ROOT / "orchestrator")
    return sorted(files)


def prometheus_files() -> list[tuple[str, Path]]:
    directory = PROMETHEUS.dockerfile_dir
    return [(name, directory / name) for name in ("Dockerfile", "entrypoint.sh", "prometheus.yml")]


def build_stack_image(
    image: StackImage,
    context: Context,
    progress: Progress = logger.info,
    *,
    base_image: str | None = None,
    nocache: bool = False,
    client: docker.DockerClient | None = None,
) -> str:
    """Build one of the stack's images from its context, FROM `base_image` (default: its own
    Debian base, which must exist; another one the engine may pull); returns its id."""
    client = client or docker_client()
    if base_image is None:
        base_image = image.base.tag
        try:
            client.images.get(base_image)
        except ImageNotFound:
            raise ImageBuildError(
                f"base image {base_image} is missing: run `make server-image`"
            ) from None
    return build_context(
        image.tag,
        context,
        progress,
        buildargs={"BASE_IMAGE": base_image, "LAMBKIN_SOURCE_HASH": hash_context(context)},
        labels={LABEL_BASE_IMAGE: base_image},
        nocache=nocache,
        client=client,
    )


def current(
    image: StackImage, context: Context, base_image: str, client: docker.DockerClient
) -> bool:
    """Whether the image exists, built from exactly this context FROM this base."""
    try:
        labels = client.images.get(image.tag).labels or {}
    except ImageNotFound:
        return False
    return (
        labels.get(LABEL_SOURCE_HASH) == hash_context(context)
        and labels.get(LABEL_BASE_IMAGE) == base_image
    )


def build_steps(
    *,
    force: bool = False,
    bases: Mapping[str, str] | None = None,
    client: docker.DockerClient | None = None,
) -> list[BuildStep]:
    """What `make server-image` does, as (description, work) pairs: the agent binary, the
    server's wheels, each base (only if missing, unless `force`), each image (skipped when
    current, unless `force`), then removal of the images they replaced. `bases` maps an image's
    tag to another base to build it FROM (an official image): its Debian base is then not made."""
    bases = bases or {}
    docker_ = client or docker_client()
    built: dict[str, Path] = {}

    def agent(progress: Progress) -> None:
        try:
            built["agent"] = agent_binary.agent_binary(progress)
        except agent_binary.AgentBuildError as exc:
            raise ImageBuildError(str(exc)) from exc
        progress(f"agent binary: {built['agent']}")

    def wheels(progress: Progress) -> None:
        built["wheels"] = wheelhouse(progress)

    def image(spec: StackImage, progress: Progress) -> None:
        if spec is SERVER:
            context = read_context(server_files(built["wheels"], built["agent"]))
        else:
            context = read_context(prometheus_files())
        base = bases.get(spec.tag)
        if not force and current(spec, context, base or spec.base.tag, docker_):
            progress(f"{spec.tag} is current")
            return
        build_stack_image(spec, context, progress, base_image=base, nocache=force, client=docker_)

    steps: list[BuildStep] = [("agent binary", agent), ("server wheels", wheels)]
    for spec in STACK_IMAGES:
        if spec.tag not in bases:
            base_step = partial(_base, spec.base, force, docker_)
            steps.append((f"base image {spec.base.tag}", base_step))
        steps.append((spec.tag, partial(image, spec)))
    steps.append(("removing replaced images", lambda p: prune_replaced(docker_, p)))
    return steps


def _base(base: BaseImage, force: bool, client: docker.DockerClient, progress: Progress) -> None:
    ensure_base_image(force, progress, client, base)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m orchestrator.stack_images", description="the team stack's images"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build lambkin/server and lambkin/prometheus")
    build.add_argument("--force", action="store_true", help="rebuild the bases, bypass caches")
    for spec in STACK_IMAGES:
        name = spec.tag.split("/")[-1]
        build.add_argument(
            f"--{name}-base",
            metavar="IMAGE",
            help=f"build {spec.tag} FROM this image instead of {spec.base.tag}",
        )
    args = parser.parse_args(argv)
    bases = {
        spec.tag: base
        for spec in STACK_IMAGES
        if (base := getattr(args, f"{spec.tag.split('/')[-1]}_base"))
    }

    from rich.console import Console

    from .images_cli import build_with_progress

    console = Console(stderr=True)
    try:
        assert args.command == "build"
        build_with_progress(console, build_steps(force=args.force, bases=bases))
    except ImageBuildError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, emoji=False)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
