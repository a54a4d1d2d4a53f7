"""Container images that run AWS's own runtime interface clients, unmodified, for
`PackageType=Image` tests (and the zips of the same compiled handlers).

Each image is a local Docker image, never pulled from a registry:
- bases come from Debian packages via `runtime-images/base/build-base.sh` (mmdebstrap, then
  `docker import`);
- the language packages (awslambdaric, aws-lambda-ric, the Java client, aws-lambda-go) are
  fetched on this host with their own clients (pip, npm, mvn, go) into the oracle cache
  (`tests.support.oracles.cache_dir()`), then copied into the build context;
- the handlers are in `tests/conformance/functions/ric/<language>/`, next to the Dockerfiles.

Every handler serves the same contract (one table-driven test covers them all):
- `{"action": "echo", ...}` returns `{"event", "count" (invocations served by this process),
  "uid", "context": {function_name, function_version, memory_limit_in_mb (a number),
  aws_request_id, invoked_function_arn, log_group_name, log_stream_name, remaining_time_ms},
  "env": {AWS_LAMBDA_FUNCTION_NAME, AWS_REGION, LAMBDA_TASK_ROOT: value or null}}`, and prints
  `hello from <language>`;
- `{"action": "error", "message": m}` raises the language's usual error with message m;
- `{"action": "sleep", "seconds": n}` sleeps n seconds, then returns `{"slept": n}`.

An image's tag is a hash of everything that goes into it (its Dockerfile, sources, client
versions, base images), so a second run finds it and builds nothing. Builds are serialised
across processes with a file lock and report one line per step on stderr.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import docker
from docker.errors import ImageNotFound

from orchestrator.console.assets import npm_install
from tests.support.oracles import cache_dir, locked
from tests.support.zips import make_zip

# The clients, pinned here and nowhere else.
AWSLAMBDARIC_VERSION = "4.2.2"  # PyPI awslambdaric
AWS_LAMBDA_RIC_VERSION = "3.3.0"  # npm aws-lambda-ric (3.x)
JAVA_RIC_VERSION = "2.10.1"  # Maven com.amazonaws:aws-lambda-java-runtime-interface-client
JAVA_CORE_VERSION = "1.4.0"  # Maven com.amazonaws:aws-lambda-java-core
AWS_LAMBDA_GO_VERSION = "v1.55.1"  # Go module github.com/aws/aws-lambda-go

REPO = Path(__file__).resolve().parents[2]
RIC_DIR = REPO / "tests" / "conformance" / "functions" / "ric"
BUILD_BASE_SCRIPT = REPO / "runtime-images" / "base" / "build-base.sh"
TAG_PREFIX = "lambkin-test"
LABEL = "org.lambkin.test-image"  # on every image built here: its recipe's name
PYTHON_ABI = ("--python-version", "3.11", "--implementation", "cp")  # Debian 12's python3
PYTHON_PLATFORM = "manylinux2014_x86_64"
JAVA_HANDLER = "example.Handler::handleRequest"

Files = list[tuple[str, Path]]  # (path in the build context, file or directory to copy there)


@dataclass(frozen=True)
class FunctionImage:
    tag: str  # local image reference, content-hashed: "lambkin-test/<name>:<12 hex>"
    language: str  # "python", "nodejs", "java", "go"
    entrypoint: list[str]  # the image's ENTRYPOINT, as in its config
    command: list[str]  # the image's CMD (the handler, but for Go)


def _say(message: str) -> None:
    print(f"function-images: {message}", file=sys.stderr, flush=True)


def _digest(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _tree_bytes(root: Path) -> bytes:
    """Names, modes and contents of every file under root (or of root itself), for hashing."""
    paths = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return b"".join(
        f"{p.relative_to(root.parent)}\0{p.stat().st_mode & 0o111:o}\0".encode()
        + hashlib.sha256(p.read_bytes()).digest()
        for p in paths
    )


def _run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    """Run a host tool quietly; on failure, raise with the tail of its output."""
    result = subprocess.run(
        args,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join(result.stdout.splitlines()[-30:])
        raise RuntimeError(f"{' '.join(args)} failed (exit {result.returncode}):\n{tail}")


def _cached(name: str, make: Callable[[Path], None]) -> Path:
    """cache/function-images/<name>, made once by make(partial dir); call under the lock."""
    target = cache_dir() / "function-images" / name
    if not target.exists():
        partial = target.with_name(target.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        _say(f"fetching/compiling {name} on the host")
        make(partial)
        partial.rename(target)
    return target


# --- what the images are made of --------------------------------------------------------------


@dataclass(frozen=True)
class _Base:
    """An offline Debian 12 base from build-base.sh: ca-certificates plus these packages."""

    name: str
    packages: tuple[str, ...]

    @property
    def tag(self) -> str:
        packages = ",".join(("ca-certificates", *self.packages))
        digest = _digest(BUILD_BASE_SCRIPT.read_bytes(), packages.encode())
        return f"{TAG_PREFIX}/base-{self.name}:{digest[:12]}"

    def ensure(self, client: docker.DockerClient) -> None:
        if _image_exists(client, self.tag):
            return
        _say(f"building base {self.tag} ({', '.join(self.packages)}) with build-base.sh")
        env = {"LAMBKIN_BASE_IMAGE": self.tag, "LAMBKIN_BASE_PACKAGES": ",".join(self.packages)}
        _run(["bash", str(BUILD_BASE_SCRIPT)], env=env)


PYTHON_BASE = _Base("python", ("python3",))
NODE_BASE = _Base("nodejs", ("nodejs",))
NODE_BUILD_BASE = _Base(
    "nodejs-build",
    ("nodejs", "libnode-dev", "python3", "g++", "make", "cmake", "autoconf", "automake", "libtool"),
)
JAVA_BASE = _Base("java", ("openjdk-17-jre-headless",))


@dataclass(frozen=True)
class _Recipe:
    name: str  # the image's repository under TAG_PREFIX
    language: str
    dockerfile: Path
    sources: Files  # repository files copied into the context as they are
    bases: dict[str, _Base] = field(default_factory=dict)  # build arg -> base image
    versions: str = ""  # the client versions that go in
    built: Callable[[], Files] = lambda: []  # host-made parts (fetched, compiled): lazily

    def tag(self) -> str:
        parts = [self.dockerfile.read_bytes(), self.versions.encode()]
        parts += [name.encode() + b"\0" + _tree_bytes(path) for name, path in self.sources]
        parts += [f"{arg}={base.tag}".encode() for arg, base in sorted(self.bases.items())]
        return f"{TAG_PREFIX}/{self.name}:{_digest(*parts)[:12]}"


def _python_client() -> Files:
    def install(out: Path) -> None:
        _run(
            [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "install"]
            + ["--no-compile", "--only-binary=:all:", "--platform", PYTHON_PLATFORM, *PYTHON_ABI]
            + ["--target", str(out), f"awslambdaric=={AWSLAMBDARIC_VERSION}"]
        )

    return [("client", _cached(f"awslambdaric-{AWSLAMBDARIC_VERSION}", install))]


def aws_lambda_ric_source() -> str:
    """aws-lambda-ric's bundled source (dist/index.mjs), fetched with npm into the oracle cache:
    the oracle for behaviour our Node.js client copies."""
    with locked("function-images"):
        modules = _node_client()[0][1]
    return (modules / "aws-lambda-ric" / "dist" / "index.mjs").read_text()


def _node_client() -> Files:
    def install(out: Path) -> None:
        # Scripts off: the native addon is compiled in the image (see its Dockerfile).
        npm_install(out, f"aws-lambda-ric@{AWS_LAMBDA_RIC_VERSION}")

    root = _cached(f"aws-lambda-ric-{AWS_LAMBDA_RIC_VERSION}", install)
    return [("client/node_modules", root / "node_modules")]


def java_ric_jars() -> Path:
    """AWS's Java runtime client with aws-lambda-java-core and their dependencies, as a folder of
    jars fetched with mvn into the oracle cache: the oracle for behaviour our Java client copies."""
    with locked("function-images"):
        return _java_jars()


def _java_jars() -> Path:
    """The Java client, aws-lambda-java-core and their dependencies, as a folder of jars."""

    def copy(out: Path) -> None:
        dependencies = "".join(
            f"<dependency><groupId>com.amazonaws</groupId><artifactId>{artifact}</artifactId>"
            f"<version>{version}</version></dependency>"
            for artifact, version in (
                ("aws-lambda-java-runtime-interface-client", JAVA_RIC_VERSION),
                ("aws-lambda-java-core", JAVA_CORE_VERSION),
            )
        )
        (out / "pom.xml").write_text(
            "<project><modelVersion>4.0.0</modelVersion>"
            "<groupId>lambkin.test</groupId><artifactId>java-ric</artifactId><version>1</version>"
            f"<dependencies>{dependencies}</dependencies></project>\n"
        )
        _run(
            ["mvn", "-B", "-q", "dependency:copy-dependencies", "-DoutputDirectory=lib"]
            + ["-DincludeScope=runtime"],
            cwd=out,
        )

    return _cached(f"java-ric-{JAVA_RIC_VERSION}-core-{JAVA_CORE_VERSION}", copy) / "lib"


def _java_classes() -> Path:
    """The handler, compiled against aws-lambda-java-core with javac --release 17."""
    sources = sorted((RIC_DIR / "java" / "example").glob("*.java"))
    jars = _java_jars()
    key = _digest(JAVA_CORE_VERSION.encode(), *(s.read_bytes() for s in sources))[:12]

    def compile_(out: Path) -> None:
        core = f"{jars}/aws-lambda-java-core-{JAVA_CORE_VERSION}.jar"
        _run(
            ["javac", "--release", "17", "-nowarn", "-cp", core, "-d", str(out), *map(str, sources)]
        )

    return _cached(f"java-classes-{key}", compile_)


def _go_binary() -> Path:
    """The aws-lambda-go handler as one static binary (CGO_ENABLED=0)."""
    source = RIC_DIR / "go" / "main.go"
    key = _digest(AWS_LAMBDA_GO_VERSION.encode(), source.read_bytes())[:12]

    def build(out: Path) -> None:
        env = {
            "CGO_ENABLED": "0",
            "GOOS": "linux",
            "GOARCH": "amd64",
            "GOFLAGS": "-modcacherw -trimpath",
            "GOMODCACHE": str(cache_dir() / "go-mod"),
            "GOTOOLCHAIN": "local",
        }
        shutil.copy(source, out / "main.go")
        (out / "go.mod").write_text("module lambkin.test/ric\n\ngo 1.21\n")
        _run(["go", "get", f"github.com/aws/aws-lambda-go@{AWS_LAMBDA_GO_VERSION}"], out, env)
        _run(["go", "build", "-ldflags=-s -w", "-o", "main", "."], out, env)

    return _cached(f"go-{key}", build) / "main"


_AWSLAMBDARIC = _Recipe(
    name="awslambdaric",
    language="python",
    dockerfile=RIC_DIR / "python" / "Dockerfile",
    sources=[("function/app.py", RIC_DIR / "python" / "app.py")],
    bases={"BASE_IMAGE": PYTHON_BASE},
    versions=f"awslambdaric=={AWSLAMBDARIC_VERSION}",
    built=_python_client,
)
RECIPES: dict[str, _Recipe] = {
    recipe.name: recipe
    for recipe in (
        _AWSLAMBDARIC,
        _Recipe(
            name="aws-lambda-ric",
            language="nodejs",
            dockerfile=RIC_DIR / "nodejs" / "Dockerfile",
            sources=[("function/index.js", RIC_DIR / "nodejs" / "index.js")],
            bases={"BASE_IMAGE": NODE_BASE, "BUILD_BASE_IMAGE": NODE_BUILD_BASE},
            versions=f"aws-lambda-ric@{AWS_LAMBDA_RIC_VERSION}",
            built=_node_client,
        ),
        _Recipe(
            name="java-ric",
            language="java",
            dockerfile=RIC_DIR / "java" / "Dockerfile",
            sources=[("handler-src", RIC_DIR / "java" / "example")],  # the classes go in
            bases={"BASE_IMAGE": JAVA_BASE},
            versions=f"java-ric={JAVA_RIC_VERSION} java-core={JAVA_CORE_VERSION}",
            built=lambda: [("client", _java_jars()), ("function", _java_classes())],
        ),
        _Recipe(
            name="go-scratch",
            language="go",
            dockerfile=RIC_DIR / "go" / "Dockerfile",
            sources=[("main.go", RIC_DIR / "go" / "main.go")],  # the binary goes in
            versions=f"aws-lambda-go@{AWS_LAMBDA_GO_VERSION}",
            built=lambda: [("main", _go_binary())],
        ),
        # The same client and code, laid out as in AWS's own base image.
        replace(
            _AWSLAMBDARIC,
            name="aws-base-layout",
            dockerfile=RIC_DIR / "aws-base-layout" / "Dockerfile",
            sources=[
                *_AWSLAMBDARIC.sources,
                ("bootstrap", RIC_DIR / "aws-base-layout" / "bootstrap"),
                ("lambda-entrypoint.sh", RIC_DIR / "aws-base-layout" / "lambda-entrypoint.sh"),
            ],
        ),
    )
}


# --- building ---------------------------------------------------------------------------------


def _docker() -> docker.DockerClient:
    return docker.from_env(timeout=600)


def _image_exists(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except ImageNotFound:
        return False


def _copy_into(context: Path, files: Files) -> None:
    for name, source in files:
        target = context / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True, symlinks=True)
        else:
            shutil.copy2(source, target)


def _build(client: docker.DockerClient, recipe: _Recipe, tag: str) -> None:
    started = time.monotonic()
    for base in recipe.bases.values():
        base.ensure(client)
    with tempfile.TemporaryDirectory(prefix=f"lambkin-{recipe.name}-") as tmp:
        context = Path(tmp)
        _copy_into(context, [("Dockerfile", recipe.dockerfile), *recipe.sources])
        _copy_into(context, recipe.built())
        _say(f"building {tag}")
        chunks: Iterator[dict[str, Any]] = client.api.build(
            path=tmp,
            tag=tag,
            buildargs={arg: base.tag for arg, base in recipe.bases.items()},
            labels={LABEL: recipe.name},
            pull=False,
            rm=True,
            forcerm=True,
            decode=True,
        )
        tail: deque[str] = deque(maxlen=40)  # the output of the step under way
        for chunk in chunks:
            if "error" in chunk:
                output = "\n".join(tail)
                raise RuntimeError(f"building {tag} failed: {chunk['error'].strip()}\n{output}")
            for line in str(chunk.get("stream") or "").splitlines():
                if line.startswith("Step "):
                    _say(f"  {line}")
                    tail.clear()
                elif line.strip():
                    tail.append(line)
    size = client.images.get(tag).attrs["Size"]
    _say(f"built {tag} ({size / 1e6:.0f} MB) in {time.monotonic() - started:.0f} s")


@functools.cache
def function_image(name: str) -> FunctionImage:
    """The image of a recipe (a key of RECIPES), built unless it exists."""
    recipe = RECIPES[name]
    tag = recipe.tag()
    client = _docker()
    try:
        if not _image_exists(client, tag):
            with locked("function-images"):
                if not _image_exists(client, tag):
                    _build(client, recipe, tag)
        config = client.images.get(tag).attrs["Config"]
    finally:
        client.close()
    return FunctionImage(
        tag, recipe.language, list(config.get("Entrypoint") or []), list(config.get("Cmd") or [])
    )


def awslambdaric_image() -> FunctionImage:
    """Debian 12's python3 + awslambdaric; ENTRYPOINT python3 -m awslambdaric, CMD app.handler."""
    return function_image("awslambdaric")


def aws_lambda_ric_image() -> FunctionImage:
    """Debian 12's nodejs 18 + aws-lambda-ric 3.x (native addon built in the image)."""
    return function_image("aws-lambda-ric")


def java_ric_image() -> FunctionImage:
    """Debian 12's OpenJDK 17 JRE + AWS's Java client; CMD example.Handler::handleRequest."""
    return function_image("java-ric")


def go_scratch_image() -> FunctionImage:
    """Only a static aws-lambda-go binary, /main: no shell, no libc, nothing else."""
    return function_image("go-scratch")


def aws_base_layout_image() -> FunctionImage:
    """The layout of AWS's Lambda Python base image, with app.py in LAMBDA_TASK_ROOT."""
    return function_image("aws-base-layout")


# Every image, by the name the tests give it.
IMAGES: dict[str, Callable[[], FunctionImage]] = {
    "awslambdaric": awslambdaric_image,
    "aws-lambda-ric": aws_lambda_ric_image,
    "java-ric": java_ric_image,
    "go-scratch": go_scratch_image,
    "aws-base-layout": aws_base_layout_image,
}


def go_bootstrap_zip() -> bytes:
    """A provided.al2023 zip: the aws-lambda-go handler as `bootstrap` (mode 0755)."""
    with locked("function-images"):
        binary = _go_binary()
    return make_zip({"bootstrap": binary.read_bytes()}, executable=("bootstrap",))


def java_handler_zip() -> bytes:
    """A java17 zip (classes at the root) of the handler, for JAVA_HANDLER; the runtime brings
    aws-lambda-java-core."""
    with locked("function-images"):
        classes = _java_classes()
    return make_zip(
        {
            path.relative_to(classes).as_posix(): path.read_bytes()
            for path in sorted(classes.rglob("*.class"))
        }
    )


if __name__ == "__main__":  # python -m tests.support.function_images: build them all, timed
    for name in RECIPES:
        began = time.monotonic()
        image = function_image(name)
        print(json.dumps({"image": image.tag, "seconds": round(time.monotonic() - began, 1)}))
