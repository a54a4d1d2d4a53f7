"""The runtimes the conformance suite holds to the same scenarios, and how to build their fixtures.

A variant is one way of writing the conformance app: a runtime identifier plus the fixture sources
in `functions/<scenario>/<variant>/`. Go and shell are both `provided.al2023` custom runtimes.
Compiled fixtures (Go, Java) are built here at test time, with the host's compilers; C# with the
mono6.12 image's mcs (that runtime exists only as an image: `image_only`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from orchestrator import images
from orchestrator.drivers.process import host_version
from orchestrator.runtimes import RUNTIMES
from tests.support import csharp

FUNCTIONS = Path(__file__).resolve().parent / "functions"
REPO = Path(__file__).resolve().parents[2]
IMAGES_DIR = REPO / "runtime-images"
JAVA_BUILD = images.JAVA_HOST_BUILD_DIR


@dataclass(frozen=True)
class Fails:
    """An expected error: its errorType, and a piece of its message."""

    error_type: str
    message: str = ""


# What a handler-form check expects: a JSON value, raw bytes, a predicate, or an error.
Expected = Any


@dataclass(frozen=True)
class Variant:
    id: str
    runtime: str
    handler: str  # the conformance app's handler
    types: Expected  # what {"op": "types"} returns: values the language allows beyond plain JSON
    error_type: str  # errorType of {"op": "fail"}
    stack_key: str | None  # where the error document keeps its stack trace
    init_error_type: str
    init_handler: str = ""  # default: same as handler
    forms: tuple[tuple[str, Any, Expected], ...] = ()  # (handler, event, expected)
    host_tools: tuple[str, ...] = ()  # needed on the host to build or run it locally
    local_command: Callable[[Path], list[str]] = field(default=lambda root: [])
    # The fixtures' folder under functions/<scenario>/ (default: the id): a language's newer
    # runtimes (python3.13, nodejs20.x, java21, ...) run its first runtime's app unchanged.
    fixtures: str = ""
    # Runs only in its image (no host interpreter): never on the process driver or under RIE,
    # whatever the host has; its fixtures are compiled in that image.
    image_only: bool = False

    @property
    def sources(self) -> str:
        return self.fixtures or self.id


def _java_command(root: Path) -> list[str]:
    return [
        "sh",
        str(images.JAVA_CLIENT_DIR / "java.sh"),
        "-cp",
        f"{JAVA_BUILD}/*",
        "dev.lambkin.runtime.Main",
    ]


def _greeting(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and value.get("message") == "Hello, Ada!!"
        and bool(value.get("requestId"))
    )


VARIANTS: dict[str, Variant] = {
    v.id: v
    for v in (
        Variant(
            "python3.11",
            "python3.11",
            "app.handler",
            types=["raw bytes", 1.5, None, True, [1, 2]],
            error_type="ValueError",
            stack_key="stackTrace",
            init_error_type="RuntimeError",
            local_command=lambda root: [sys.executable, "-m", "lambkin_runtime"],
        ),
        Variant(
            "nodejs18.x",
            "nodejs18.x",
            "app.handler",
            types=[
                None,
                "1970-01-01T00:00:00.000Z",
                {"type": "Buffer", "data": [104, 105]},
                None,
                True,
            ],
            error_type="TypeError",
            stack_key="trace",
            init_error_type="Error",
            forms=(
                ("forms.handlers.nested", {"x": 1}, {"form": "esm-nested", "event": {"x": 1}}),
                ("forms.callback", {}, {"timerRan": True}),
                ("forms.callbackNoWait", {}, {"timerRan": False}),
                ("forms.callbackError", {}, Fails("RangeError", "out of range")),
                ("legacy.handler", {}, {"form": "cjs-succeed"}),
                ("esm/index.handler", {}, {"form": "esm-js", "config": {"ready": True}}),
                (
                    "missing.handler",
                    {},
                    Fails("Runtime.ImportModuleError", "Cannot find module 'missing'"),
                ),
                (
                    "app.nope",
                    {},
                    Fails("Runtime.HandlerNotFound", "app.nope is undefined or not exported"),
                ),
            ),
            host_tools=("node",),
            local_command=lambda root: [
                "node",
                str(IMAGES_DIR / "nodejs/lambkin_runtime_node/index.mjs"),
            ],
        ),
        Variant(
            "ruby3.1",
            "ruby3.1",
            "app.handler",
            types=["a_symbol", None, 1.5, 2**70, {"key": "value"}],
            error_type="Function<ArgumentError>",
            stack_key="stackTrace",
            init_error_type="Init<RuntimeError>",
            forms=(
                (
                    "app.Greeter::Formal.greet",
                    {"name": "x"},
                    {"form": "Module::Class.method", "name": "x"},
                ),
                ("missing.handler", {}, Fails("Init<LoadError>", "cannot load such file")),
                ("app.nope", {}, Fails("Init<NoMethodError>", "undefined method `nope'")),
            ),
            host_tools=("ruby",),
            local_command=lambda root: [
                "ruby",
                str(IMAGES_DIR / "ruby/lambkin_runtime_ruby/runtime.rb"),
            ],
        ),
        Variant(
            "java17",
            "java17",
            "example.App",
            types=[1.5, "c", None, [1, 2], 7],
            error_type="java.lang.IllegalArgumentException",
            stack_key="stackTrace",
            init_error_type="java.lang.IllegalStateException",
            forms=(
                ("example.Greeter::greet", {"name": "Ada", "times": 2}, _greeting),
                ("example.Shouter", {"a": "b"}, b'{"A": "B"}'),  # the raw event, upper-cased
                ("example.App::handleRequest", {"a": 1}, {"a": 1}),
                (
                    "example.Nope",
                    {},
                    Fails("java.lang.ClassNotFoundException", "Class not found: example.Nope"),
                ),
                (
                    "example.App::nope",
                    {},
                    Fails("java.lang.NoSuchMethodException", "No public method named nope"),
                ),
            ),
            host_tools=("java", "javac", "jar", "mvn"),
            local_command=_java_command,
        ),
        Variant(
            "mono6.12",
            "mono6.12",
            "Conformance::Conformance.App::Handle",
            # System.Text.Json's forms: decimal, char, DateTime and DateTimeOffset (the
            # fraction's trailing zeros cut), byte[] (base64), null, long, an enum (its number),
            # TimeSpan ("c" format)
            types=[
                1.5,
                "c",
                "1970-01-01T00:00:00Z",
                "1970-01-01T00:00:00.12+02:00",
                "aGk=",
                None,
                7,
                1,
                "00:01:30",
            ],
            error_type="ArgumentException",
            stack_key="stackTrace",
            # RuntimeSupport's: the constructor's exception is the cause of reflection's
            init_error_type="TargetInvocationException",
            forms=(
                ("Conformance::Conformance.Greeter::Greet", {"name": "Ada", "times": 2}, _greeting),
                ("Conformance::Conformance.Shouter::Shout", {"a": "b"}, b'{"A": "B"}'),
                ("Conformance::Conformance.Later::Echo", {"a": 1}, {"a": 1, "awaited": True}),
                (
                    "Conformance::Conformance.Nope::Handle",
                    {},
                    Fails(
                        "LambdaValidationException",
                        "Unable to load type 'Conformance.Nope' from assembly 'Conformance'.",
                    ),
                ),
                (
                    "Conformance::Conformance.App::Nope",
                    {},
                    Fails(
                        "LambdaValidationException",
                        "Unable to find method 'Nope' in type 'Conformance.App' from assembly "
                        "'Conformance': Found no methods matching method name 'Nope'.",
                    ),
                ),
                ("Conformance::Conformance.Hidden::Secret", {"a": 1}, {"a": 1, "private": True}),
                (
                    "Conformance::Conformance.Overloaded::Run",
                    {},
                    Fails(
                        "LambdaValidationException",
                        "The method 'Run' in type 'Conformance.Overloaded' appears to have a "
                        "number of overloads. To call this method please specify a complete "
                        "method signature. Possible candidates are:\n"
                        "System.String Run(System.String)",
                    ),
                ),
                (
                    "Conformance::Conformance.App",
                    {},
                    Fails(
                        "LambdaValidationException",
                        "Invalid lambda function handler: 'Conformance::Conformance.App'. "
                        "The valid format is 'ASSEMBLY::TYPE::METHOD'.",
                    ),
                ),
                (
                    "Missing::Conformance.App::Handle",
                    {},
                    Fails(
                        "LambdaValidationException",
                        "Could not find the specified handler assembly with the file name "
                        "'Missing'",
                    ),
                ),
            ),
            host_tools=("docker",),
            image_only=True,
        ),
        Variant(
            "go",
            "provided.al2023",
            "bootstrap",
            types={"duration": 1000000000, "bytes": "aGk=", "nothing": None},
            error_type="errorString",
            stack_key=None,
            init_error_type="Runtime.ConfigurationMissing",
            init_handler="init_error",
            host_tools=("go",),
            local_command=lambda root: [str(root / "bootstrap")],
        ),
        Variant(
            "shell",
            "provided.al2023",
            "bootstrap",
            types=b"plain text, not JSON",
            error_type="Function.ShellError",
            stack_key="stackTrace",
            init_error_type="Runtime.ConfigurationMissing",
            host_tools=("curl",),
            local_command=lambda root: [str(root / "bootstrap")],
        ),
    )
}


# The newer runtimes of each language: the same app and expectations as the language's first.
NEWER_RUNTIMES = {
    "python3.11": ("python3.13", "python3.14"),
    "nodejs18.x": ("nodejs20.x", "nodejs24.x"),
    "ruby3.1": ("ruby3.3",),
    "java17": ("java21", "java25"),
}
VARIANTS.update(
    {
        newer: replace(VARIANTS[first], id=newer, runtime=newer, fixtures=first)
        for first, newers in NEWER_RUNTIMES.items()
        for newer in newers
    }
)


def runs_on_host(variant: Variant) -> bool:
    """Whether this host has the variant's exact language (the process driver's and RIE's
    interpreter): Debian 12's runtimes take the host's as it is, as the process driver does."""
    spec = RUNTIMES[variant.runtime]
    if spec.python_path:
        return spec.version_prefix == f"Python {sys.version_info[0]}.{sys.version_info[1]}."
    if spec.host_any_version or not spec.version_prefix:
        return True
    return host_version(spec.version_command).startswith(spec.version_prefix)


HOST_TARGETS = ("process", "rie")  # the targets that run the host's own interpreters


def runs_on_target(variant: Variant, target: str) -> bool:
    """Whether `target` can run `variant` here at all: the docker target runs every runtime in
    its image; the host targets never run an image-only one, and others only in the host's
    exact language version."""
    if target not in HOST_TARGETS:
        return True
    if variant.image_only:  # by definition, not for want of a host interpreter
        return False
    return runs_on_host(variant)


@dataclass(frozen=True)
class Built:
    """A variant's task roots, ready to zip (or to run in place under RIE)."""

    app: Path
    init_error: Path


def missing_tools(variant: Variant) -> list[str]:
    return [tool for tool in variant.host_tools if shutil.which(tool) is None]


def unbuildable(variant: Variant) -> str | None:
    """Why the variant's fixtures cannot be built here, or None."""
    missing = missing_tools(variant)
    if missing:
        return (
            f"{variant.id}: missing on this host: {', '.join(missing)} "
            "(run scripts/ensure-host-runtimes.sh)"
        )
    if variant.image_only and not csharp.image_present():
        return f"{variant.id}: no image {csharp.mono_image()} to compile in (run `make images`)"
    return None


def build(variant: Variant, out: Path) -> Built:
    """Copy (for Go, Java and C#: compile) the variant's fixtures into task roots under `out`."""
    app, init_error = out / "app", out / "init_error"
    source_app = FUNCTIONS / "app" / variant.sources
    source_init = FUNCTIONS / "init_error" / variant.sources
    if variant.id == "go":
        app.mkdir(parents=True)
        env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-trimpath"}
        subprocess.run(
            ["go", "build", "-o", str(app / "bootstrap"), "."], cwd=source_app, env=env, check=True
        )
        init_error = app  # the same binary; its handler `init_error` makes init fail
    elif variant.sources == "java17":
        _build_java(source_app, source_init, app, init_error)
    elif variant.sources == "mono6.12":
        csharp.compile_csharp(source_app, app, "Conformance")
        csharp.compile_csharp(source_init, init_error, "Conformance")
    else:
        shutil.copytree(source_app, app)
        shutil.copytree(source_init, init_error)
    return Built(app, init_error)


def _build_java(source_app: Path, source_init: Path, app: Path, init_error: Path) -> None:
    """The layout of a Lambda Java zip: classes at the root, dependencies as lib/*.jar."""
    if not images.build_host_java_client(lambda line: None):
        raise RuntimeError("no JDK on this host: run scripts/ensure-host-runtimes.sh")
    core = next(JAVA_BUILD.glob("aws-lambda-java-core-*.jar"))  # AWS's, from java-libs.txt
    lib_classes = app.parent / "lib-classes"
    (app / "lib").mkdir(parents=True)
    init_error.mkdir(parents=True)

    def javac(classpath: str, target: Path, sources: list[Path]) -> None:
        subprocess.run(
            [
                "javac",
                "--release",
                "17",
                "-nowarn",
                "-cp",
                classpath,
                "-d",
                str(target),
                *map(str, sources),
            ],
            check=True,
        )

    javac("", lib_classes, sorted((source_app / "lib-src").rglob("*.java")))
    subprocess.run(
        ["jar", "--create", "--file", str(app / "lib" / "util.jar"), "-C", str(lib_classes), "."],
        check=True,
    )
    javac(
        f"{core}:{app / 'lib' / 'util.jar'}", app, sorted((source_app / "example").glob("*.java"))
    )
    javac(str(core), init_error, sorted(source_init.rglob("*.java")))
