"""`lambkin images build|list`, `lambkin runtimes` and `python -m orchestrator.images`: the
command-line face of images.py (progress display and tables)."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from typing import Any

import docker
from docker.errors import DockerException

from .images import (
    BASE_IMAGES,
    DEFAULT_RUNTIMES,
    RUNTIME_IMAGES,
    BuildStep,
    ImageBuildError,
    ImageStatus,
    base_image_status,
    build_steps,
    docker_client,
    image_status,
)
from .runtimes import DEFAULT_IMAGE_PREFIX


def image_prefix() -> str:
    """LAMBKIN_IMAGE_PREFIX, as the server reads it (settings.py)."""
    from .settings import Settings

    return Settings().image_prefix


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lambkin images", description="Lambkin runtime images")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the base image and the runtime images")
    build.add_argument("--force", action="store_true", help="rebuild the base, bypass the cache")
    build.add_argument(
        "--all",
        action="store_true",
        help="every runtime (default: the Debian 12 ones, " + ", ".join(DEFAULT_RUNTIMES) + ")",
    )
    build.add_argument(
        "--runtime",
        action="append",
        default=[],
        dest="named",
        metavar="RUNTIME",
        help="a runtime to build (repeatable; also positional)",
    )
    build.add_argument("runtimes", nargs="*", metavar="RUNTIME", help=", ".join(RUNTIME_IMAGES))
    commands.add_parser("list", help="show each runtime image and whether it is current")
    args = parser.parse_args(argv)

    from rich.console import Console  # the CLI's concern, not the library's

    console = Console(stderr=True)
    try:
        if args.command == "build":
            chosen = list(RUNTIME_IMAGES) if args.all else [*args.named, *args.runtimes]
            steps = build_steps(force=args.force, runtimes=chosen, prefix=image_prefix())
            build_with_progress(console, steps)
        else:
            out = Console()
            if not out.is_terminal:
                out.width = 120  # not 80: keep each row on one line in logs
            out.print(images_table())
    except ImageBuildError as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, emoji=False)
        return 1
    return 0


def build_with_progress(console: Any, steps: Sequence[BuildStep]) -> None:
    """Run build steps under a rich spinner with elapsed time per phase, printing every line."""
    from rich.progress import Progress as Bar
    from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Bar(*columns, console=console) as bar:

        def show(line: str) -> None:
            bar.console.print(f"  {line}", style="dim", markup=False, highlight=False, emoji=False)

        for description, work in steps:
            task = bar.add_task(description, total=1)
            if not console.is_terminal:  # no live spinner: say when each phase starts
                console.print(f"==> {description}", markup=False, highlight=False)
            work(show)
            bar.update(task, completed=1, description=f"[green]✓[/] {description}")
            bar.stop_task(task)


def images_table(client: docker.DockerClient | None = None) -> Any:
    from rich.table import Table

    client = client or docker_client()
    table = Table("runtime", "image", "status", "size", "created")
    for column in table.columns:
        column.no_wrap = True
    colours = {
        ImageStatus.CURRENT: "green",
        ImageStatus.STALE: "yellow",
        ImageStatus.MISSING: "red",
    }
    rows = [("(base)", base, base_image_status(client, base)) for base in BASE_IMAGES]
    prefix = image_prefix()
    rows += [
        (r, spec.tag_for(prefix), image_status(r, client, prefix))
        for r, spec in RUNTIME_IMAGES.items()
    ]
    for runtime, tag, status in rows:
        size = created = ""
        if status is not ImageStatus.MISSING:
            attrs = client.images.get(tag).attrs
            size = f"{attrs['Size'] / 1e6:.0f} MB"
            created = attrs["Created"][:16].replace("T", " ")
        table.add_row(runtime, tag, f"[{colours[status]}]{status.value}[/]", size, created)
    return table


def version_script(commands: Sequence[Sequence[str]]) -> str:
    """A shell script printing the first line (stdout or stderr) of each command's output."""
    return "; ".join(f"{{ {shlex.join(command)}; }} 2>&1 | head -n 1" for command in commands)


def version_line(output: bytes) -> str:
    """What `version_script` printed, on one line: "Python 3.11.2, boto3 1.26.27"."""
    lines = output.decode("utf-8", "replace").splitlines()
    return ", ".join(line.strip() for line in lines if line.strip())


def language_version(
    runtime: str, client: docker.DockerClient, prefix: str = DEFAULT_IMAGE_PREFIX
) -> str:
    """The runtime's version command's first line, then its libraries', run inside its image
    (under `prefix`) in one container ("" if it has no version command)."""
    from .runtimes import RUNTIMES

    spec = RUNTIMES[runtime]
    if not spec.version_command:
        return ""
    try:
        output = client.containers.run(
            spec.image_for(prefix),
            entrypoint=["sh", "-c", version_script([spec.version_command, *spec.library_versions])],
            remove=True,
            stdout=True,
            stderr=True,
            labels={"org.lambkin.purpose": "version-probe"},
        )
    except DockerException as exc:
        return f"(unknown: {exc})"[:60]
    return version_line(output)


def runtimes_table(client: docker.DockerClient | None = None) -> Any:
    """`lambkin runtimes`: every identifier, its handler format, image, status, language version."""
    from concurrent.futures import ThreadPoolExecutor

    from rich.table import Table

    from .runtimes import RUNTIMES

    client = client or docker_client()
    prefix = image_prefix()
    statuses = {r: image_status(r, client, prefix) for r in RUNTIME_IMAGES}
    image_of = {spec.tag: r for r, spec in RUNTIME_IMAGES.items()}
    present = [
        r
        for r, spec in RUNTIMES.items()
        if statuses.get(image_of.get(spec.image, "")) not in (None, ImageStatus.MISSING)
    ]
    with ThreadPoolExecutor(max_workers=4) as pool:
        versions = dict(
            zip(
                present,
                pool.map(lambda r: language_version(r, client, prefix), present),
                strict=True,
            )
        )
    table = Table("runtime", "handler", "image", "status", "language")
    colours = {
        ImageStatus.CURRENT: "green",
        ImageStatus.STALE: "yellow",
        ImageStatus.MISSING: "red",
    }
    for runtime, spec in RUNTIMES.items():
        status = statuses.get(image_of.get(spec.image, ""), ImageStatus.MISSING)
        table.add_row(
            runtime,
            spec.handler_format,
            spec.image_for(prefix),
            f"[{colours[status]}]{status.value}[/]",
            versions.get(runtime, ""),
        )
    return table
