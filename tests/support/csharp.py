"""C# function code compiled as a Lambda .NET project is, here with Mono's mcs from the mono6.12
image (the host has no Mono): the sources in, `<assembly>.dll` out, referencing the image's
Amazon.Lambda.Core and serializer assemblies exactly as code written for Lambda does."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from orchestrator.runtimes import RUNTIMES
from orchestrator.settings import Settings

RUNTIME_BUILD = "/var/runtime/build"  # where the image keeps LambkinRuntime.exe and the dlls
REFERENCES = ("Amazon.Lambda.Core", "Amazon.Lambda.Serialization.SystemTextJson")


def mono_image() -> str:
    """The mono6.12 image under this checkout's prefix (LAMBKIN_IMAGE_PREFIX)."""
    return RUNTIMES["mono6.12"].image_for(Settings().image_prefix)


def image_present() -> bool:
    done = subprocess.run(
        ["docker", "image", "inspect", mono_image()], capture_output=True, check=False
    )
    return done.returncode == 0


def compile_csharp(
    sources: Path, out: Path, assembly: str, references: tuple[str, ...] = REFERENCES
) -> Path:
    """mcs -target:library over every .cs file under `sources`: `out/<assembly>.dll`."""
    sources, out = sources.resolve(), out.resolve()  # docker takes only absolute mounts
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(p.relative_to(sources).as_posix() for p in sources.rglob("*.cs"))
    assert files, f"no C# sources under {sources}"
    command = [
        "docker",
        "run",
        "--rm",
        "--network=none",
        f"--user={os.getuid()}:{os.getgid()}",
        "-v",
        f"{sources}:/src:ro",
        "-v",
        f"{out}:/out",
        "-w",
        "/src",
        mono_image(),
        "mcs",
        "-nologo",
        "-warnaserror",
        "-target:library",
        f"-out:/out/{assembly}.dll",
        *(f"-r:{RUNTIME_BUILD}/{name}.dll" for name in references),
        *files,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"mcs failed:\n{done.stdout}\n{done.stderr}"
    return out / f"{assembly}.dll"


def runtime_assemblies(out: Path, names: tuple[str, ...] = REFERENCES) -> list[Path]:
    """Copies of the image's Amazon.Lambda.* dlls, as a Lambda zip carries its NuGet packages'."""
    out.mkdir(parents=True, exist_ok=True)
    mounts = " ".join(f"{RUNTIME_BUILD}/{name}.dll" for name in names)
    subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network=none",
            f"--user={os.getuid()}:{os.getgid()}",
            "-v",
            f"{out}:/out",
            mono_image(),
            "sh",
            "-c",
            f"cp {mounts} /out/",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return [out / f"{name}.dll" for name in names]
