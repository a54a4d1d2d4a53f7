"""Runtime identifiers (Lambda's names) and how each one starts inside an instance.

This is the single table of identifiers. Each runtime's image is built by `orchestrator/images.py`
from Debian packages; the process driver runs the same command with the host's interpreter when
the host has it (`host_binary`) and the runtime's client is in place (`process_requires`).
"""

from __future__ import annotations

from dataclasses import dataclass

# Runtime images are `<prefix>/<runtime>` (settings.image_prefix, LAMBKIN_IMAGE_PREFIX): another
# prefix builds and runs a checkout's images beside the shared `lambkin/...` ones.
DEFAULT_IMAGE_PREFIX = "lambkin"

# The Java runtime's whole classpath: our client and AWS's aws-lambda-java-core and
# aws-lambda-java-serialization (runtime-images/java/java-libs.txt), as on AWS; the function's
# classes and lib/*.jar are loaded by the client, above it.
JAVA_CLASSPATH = "{runtime_dir}/build/*"


@dataclass(frozen=True)
class RuntimeSpec:
    identifier: str
    image: str
    # The runtime command; `{task_root}` and `{runtime_dir}` are filled in by the driver, which
    # knows where code and runtime clients live in its sandboxes.
    command: tuple[str, ...]
    # Directory under runtime-images/ holding this runtime's client (None: the code brings it).
    client_dir: str | None = None
    python_path: bool = False
    handler_format: str = ""
    handler_example: str = ""
    # The language as `lambkin runtimes` reports it: a command run in the image, first line kept;
    # then, the same way, the libraries the image gives function code (AWS's Python runtimes
    # carry boto3), all on one line: "Python 3.11.2, boto3 1.26.27".
    version_command: tuple[str, ...] = ()
    library_versions: tuple[tuple[str, ...], ...] = ()
    # Process driver: the host program the command needs, and files (relative to the runtime
    # dir, or absolute) that must exist, e.g. the compiled Java client.
    host_binary: str | None = None
    process_requires: tuple[str, ...] = ()
    # Where the language looks for libraries, as Lambda sets it: (variable, value) with
    # `{task_root}`, `{runtime_dir}` and `{opt}` (the layers' root) filled in by the driver.
    search_paths: tuple[tuple[str, str], ...] = ()
    # The exact language: what the version command's first line starts with ("Python 3.13.",
    # "v20.", "ruby 3.3.", 'openjdk version "21'), in the image and, for the process driver, on
    # the host ("" for the provided runtimes: the code brings its language).
    version_prefix: str = ""
    # Process driver: whether the host's program runs this runtime whatever its version. Only
    # Debian 12's runtimes (nodejs18.x, ruby3.1, java17), the host's own suite, as before the
    # newer ones came; each newer one needs its exact version on the host (nodejs20.x: node v20).
    host_any_version: bool = False

    def image_for(self, prefix: str) -> str:
        """This runtime's image under an image prefix (`image` is the default prefix's)."""
        return image_under(prefix, self.image)

    def resolve_command(self, task_root: str, runtime_dir: str, opt: str = "/opt") -> list[str]:
        return [
            part.format(task_root=task_root, runtime_dir=runtime_dir, opt=opt)
            for part in self.command
        ]

    def search_environment(self, task_root: str, runtime_dir: str, opt: str) -> dict[str, str]:
        return {
            name: value.format(task_root=task_root, runtime_dir=runtime_dir, opt=opt)
            for name, value in self.search_paths
        }


_PROVIDED_FORMAT = "free-form; passed to your bootstrap as _HANDLER"
_PROVIDED_VERSION = (
    "sh",
    "-c",
    "echo \"your bootstrap (with curl $(curl --version | cut -d' ' -f2 | head -n 1))\"",
)


def _python(version: str) -> RuntimeSpec:
    return RuntimeSpec(
        identifier=f"python{version}",
        image=f"lambkin/python{version}",
        command=("python3", "-m", "lambkin_runtime"),
        client_dir="python",
        python_path=True,
        # Layers come before the runtime's own boto3, as on Lambda.
        search_paths=(
            (
                "PYTHONPATH",
                f"{{opt}}/python/lib/python{version}/site-packages:{{opt}}/python:{{runtime_dir}}",
            ),
        ),
        handler_format="module.function (also dir/module.function)",
        handler_example="app.handler",
        version_command=("python3", "--version"),
        library_versions=(("python3", "-c", "import boto3; print('boto3', boto3.__version__)"),),
        version_prefix=f"Python {version}.",
    )


def _nodejs(major: int, *, host_any_version: bool = False) -> RuntimeSpec:
    return RuntimeSpec(
        host_any_version=host_any_version,
        identifier=f"nodejs{major}.x",
        image=f"lambkin/nodejs{major}.x",
        command=("node", "{runtime_dir}/lambkin_runtime_node/index.mjs"),
        search_paths=(
            (
                "NODE_PATH",
                f"{{opt}}/nodejs/node{major}/node_modules:{{opt}}/nodejs/node_modules:"
                "{runtime_dir}/node_modules:{runtime_dir}:{task_root}",
            ),
        ),
        client_dir="nodejs",
        handler_format="file.export (also dir/file.a.b); .js/.cjs CommonJS, .mjs ES module",
        handler_example="index.handler",
        version_command=("node", "--version"),
        host_binary="node",
        version_prefix=f"v{major}.",
    )


def _ruby(version: str, *, host_any_version: bool = False) -> RuntimeSpec:
    return RuntimeSpec(
        host_any_version=host_any_version,
        identifier=f"ruby{version}",
        image=f"lambkin/ruby{version}",
        command=("ruby", "{runtime_dir}/lambkin_runtime_ruby/runtime.rb"),
        search_paths=(
            (
                "GEM_PATH",
                f"{{task_root}}/vendor/bundle/ruby/{version}.0:{{opt}}/ruby/gems/{version}.0",
            ),
            ("RUBYLIB", "{task_root}:{runtime_dir}/lib:{opt}/ruby/lib"),
        ),
        client_dir="ruby",
        handler_format="file.method or file.Module::Class.method",
        handler_example="function.handler",
        version_command=("ruby", "--version"),
        host_binary="ruby",
        version_prefix=f"ruby {version}.",
    )


def _java(major: int, *, host_any_version: bool = False) -> RuntimeSpec:
    return RuntimeSpec(
        host_any_version=host_any_version,
        identifier=f"java{major}",
        image=f"lambkin/java{major}",
        command=(
            # java with AWS's flags and the heap at 85% of the function's memory.
            "sh",
            "{runtime_dir}/lambkin_runtime_java/java.sh",
            # Where the client finds the layers' jars ({opt}/java/lib), as Lambda's does.
            "-Dlambkin.opt={opt}",
            "-cp",
            JAVA_CLASSPATH,
            "dev.lambkin.runtime.Main",
        ),
        client_dir="java",
        handler_format=(
            "package.Class::method, or package.Class (RequestHandler / RequestStreamHandler)"
        ),
        handler_example="example.Handler::handleRequest",
        version_command=("java", "-version"),
        host_binary="java",
        process_requires=("build/lambkin-java-runtime.jar",),
        version_prefix=f'openjdk version "{major}',
    )


# Each language's versions, oldest first: Debian 12's (bookworm), then Debian 13's (trixie) and
# testing's (forky); images.py says which suite's packages each image is made from.
RUNTIMES: dict[str, RuntimeSpec] = {
    spec.identifier: spec
    for spec in (
        _python("3.11"),
        _python("3.13"),
        _python("3.14"),
        _nodejs(18, host_any_version=True),
        _nodejs(20),
        _nodejs(24),
        _ruby("3.1", host_any_version=True),
        _ruby("3.3"),
        _java(17, host_any_version=True),
        _java(21),
        _java(25),
        # .NET code on Mono 6.12 (not .NET 8: Debian packages no .NET), with our client and
        # our Amazon.Lambda.Core; handler code compiles with mcs against /var/runtime/build.
        RuntimeSpec(
            identifier="mono6.12",
            image="lambkin/mono6.12",
            command=("mono", "{runtime_dir}/build/LambkinRuntime.exe"),
            client_dir="csharp",
            handler_format="Assembly::Namespace.Class::Method (loads Assembly.dll)",
            handler_example="Function::Example.Function::Handler",
            version_command=("mono", "--version"),
            host_binary="mono",
            process_requires=("build/LambkinRuntime.exe",),
            version_prefix="Mono JIT compiler version 6.12.",
        ),
        RuntimeSpec(
            identifier="provided.al2023",
            image="lambkin/provided.al2023",
            command=("{task_root}/bootstrap",),
            handler_format=_PROVIDED_FORMAT,
            handler_example="bootstrap",
            version_command=_PROVIDED_VERSION,
        ),
        RuntimeSpec(
            identifier="provided.al2",
            image="lambkin/provided.al2023",
            command=("{task_root}/bootstrap",),
            handler_format=_PROVIDED_FORMAT,
            handler_example="bootstrap",
            version_command=_PROVIDED_VERSION,
        ),
    )
}

# Lambda identifiers Lambkin cannot offer as zip runtimes, and why; each points to the README
# section with the container-image recipe that runs them instead.
README_IMAGE_RECIPES = ".NET and PowerShell as container images"
_UNBUILDABLE = {
    "dotnet": (
        ".NET runtimes are not available in Lambkin: no .NET runtime or SDK is packaged for "
        "Debian, so none can be built or tested here. For C# code, use the runtime mono6.12 "
        "(Mono 6.12, handler Assembly::Namespace.Class::Method, code compiled with mcs); or run "
        ".NET functions as container-image functions (PackageType=Image): an image with the "
        ".NET runtime and Amazon.Lambda.RuntimeSupport, as in the README section "
        f'"{README_IMAGE_RECIPES}".'
    ),
    "powershell": (
        "PowerShell is not available in Lambkin: PowerShell is not packaged for Debian 12, so it "
        "cannot be built or tested here. Run PowerShell functions as container-image functions "
        "instead (PackageType=Image): an image with PowerShell and AWS's PowerShell runtime, as "
        f'in the README section "{README_IMAGE_RECIPES}".'
    ),
}


def unbuildable_reason(identifier: object) -> str | None:
    """Why an identifier Lambda knows (dotnet*, powershell*) is refused here; None otherwise."""
    if isinstance(identifier, str):
        for prefix, reason in _UNBUILDABLE.items():
            if identifier.lower().startswith(prefix):
                return reason
    return None


def image_under(prefix: str, image: str) -> str:
    """`lambkin/<name>` as `<prefix>/<name>`."""
    return prefix + image.removeprefix(DEFAULT_IMAGE_PREFIX)


def runtime_spec(identifier: str) -> RuntimeSpec:
    return RUNTIMES[identifier]
