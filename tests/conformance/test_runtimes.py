"""One conformance suite, every runtime: the same scenarios against each runtime's client.

Runtimes (variants.py): every one Lambkin offers, python3.11/3.13/3.14, nodejs18.x/20.x/24.x,
ruby3.1/3.3, java17/21/25, mono6.12 (C#, on docker only: it exists only as an image), and
provided.al2023 written in Go and in shell. Targets (targets.py): a
Lambkin server on the docker driver and on the process driver (through boto3), and AWS's Runtime
Interface Emulator running our client directly, which shows that our clients speak the Runtime
API as AWS's own server defines it. The process driver and RIE use the host's interpreters, so
they run a newer runtime only where the host has its exact version (the other combinations are
deselected at collection, tests/conformance/conftest.py: the docker target runs it in its image).

Each runtime's conformance app (functions/app/<variant>/) is deployed once per target and serves
every scenario by `op`; an init failure, a timeout and a process exit get functions of their own.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator.runtimes import README_IMAGE_RECIPES
from tests.conformance.targets import ROLE, Function, RieTarget, ServerTarget, Target
from tests.conformance.variants import (
    REPO,
    VARIANTS,
    Built,
    Fails,
    Variant,
    build,
    runs_on_target,
    unbuildable,
)
from tests.conftest import docker_required
from tests.support.server import start_server
from tests.support.zips import make_zip

VARIANT_IDS = list(VARIANTS)
TARGETS = [pytest.param("docker", marks=pytest.mark.docker), "process", "rie"]
ENV = {"GREETING": "héllo wörld ✓"}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _unavailable(message: str) -> None:
    """A runtime that cannot run here: a failure in CI (LAMBKIN_REQUIRE_DOCKER=1), else a skip."""
    if docker_required():
        pytest.fail(message)
    pytest.skip(message)


class Builds:
    """Each variant's task roots, compiled on first use (a run of one runtime builds only its
    own); a string says why one cannot be built here."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self._done: dict[str, Built | str] = {}

    def __getitem__(self, variant_id: str) -> Built | str:
        variant = VARIANTS[variant_id]
        if variant.sources not in self._done:  # a language's newer runtime: its first one's
            first = VARIANTS[variant.sources]
            reason = unbuildable(first)
            self._done[first.id] = reason or build(first, self._tmp.mktemp(f"built-{first.id}"))
        return self._done[variant.sources]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Builds:
    return Builds(tmp_path_factory)


@pytest.fixture(scope="module", params=TARGETS)
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    name = request.param
    if name == "rie":
        chosen: Target = RieTarget(tmp_path_factory.mktemp("rie"))
    else:
        chosen = ServerTarget(start_server(name, tmp_path_factory.mktemp(f"data-{name}")))
    yield chosen
    chosen.close()


class Deployments:
    """Functions deployed on one target, at most once per (variant, purpose)."""

    def __init__(self, target: Target, built: Builds) -> None:
        self.target = target
        self.built = built
        self._functions: dict[tuple[str, str], Function] = {}
        self._available: list[str] | None = None

    def roots(self, variant: Variant) -> Built:
        # (A combination the target cannot run never gets here: the conftest deselects those
        # at collection.)
        assert runs_on_target(variant, self.target.name), (variant.runtime, self.target.name)
        built = self.built[variant.id]
        if isinstance(built, str):
            _unavailable(built)
        assert isinstance(built, Built)
        if isinstance(self.target, ServerTarget):
            if self._available is None:
                self._available = self.target.server.health().get("runtimes")
            if self._available is not None and variant.runtime not in self._available:
                _unavailable(
                    f"{variant.runtime} is not available on the {self.target.name} driver here "
                    f"(available: {self._available}); "
                    "run `make images` / scripts/ensure-host-runtimes.sh"
                )
        return built

    def get(self, variant: Variant, purpose: str = "app", **options: Any) -> Function:
        key = (variant.id, purpose)
        if key not in self._functions:
            roots = self.roots(variant)
            root = roots.init_error if purpose == "init_error" else roots.app
            handler = (
                variant.init_handler or variant.handler
                if purpose == "init_error"
                else variant.handler
            )
            self._functions[key] = self.target.deploy(variant, root, handler, env=ENV, **options)
        return self._functions[key]

    def once(self, variant: Variant, handler: str, **options: Any) -> Function:
        """A function for one check; the caller closes it."""
        return self.target.deploy(variant, self.roots(variant).app, handler, env=ENV, **options)


@pytest.fixture(scope="module")
def deployments(target: Target, built: Builds) -> Deployments:
    return Deployments(target, built)


@pytest.fixture(params=VARIANT_IDS)
def variant(request: pytest.FixtureRequest) -> Variant:
    return VARIANTS[request.param]


@pytest.fixture
def app(deployments: Deployments, variant: Variant) -> Function:
    return deployments.get(variant)


def _error(result: Any) -> dict[str, Any]:
    assert result.function_error, result.payload[:500]
    document = result.json()
    assert isinstance(document, dict), document
    return document


# --- the scenarios ----------------------------------------------------------------------------


def test_echo_unicode_and_nested(app: Function) -> None:
    event = {
        "text": "héllo, wörld ✓ 日本語 🎉",
        "nested": {"list": [1, 2.5, None, True, {"deep": ["x"]}]},
        "n": -7,
    }
    result = app.invoke(event)
    assert not result.function_error, result.payload[:500]
    assert result.json() == event


def test_echo_5_mb(app: Function) -> None:
    # ASCII: Python's client, like awslambdaric, answers with \u escapes (6 bytes per "ü")
    event = {"blob": "x" * 5_000_000, "tail": "ü ✓"}
    result = app.invoke(event)
    assert not result.function_error, result.payload[:500]
    assert result.json() == event


def test_values_beyond_plain_json(app: Function, variant: Variant) -> None:
    result = app.invoke({"op": "types"})
    assert not result.function_error, result.payload[:500]
    if isinstance(variant.types, bytes):
        assert result.payload == variant.types
    else:
        assert result.json() == variant.types


def test_context(app: Function, target: Target) -> None:
    result = app.invoke({"op": "context"})
    context = result.json()
    assert UUID_RE.match(context["awsRequestId"]), context
    if result.request_id is not None:
        assert context["awsRequestId"] == result.request_id
    assert context["functionName"] == app.name
    assert context["functionVersion"] == "$LATEST"
    assert context["memoryLimitInMB"] == "512"
    assert context["invokedFunctionArn"].endswith(f":function:{app.name}")
    assert context["logGroupName"] == f"/aws/lambda/{app.name}" or target.name == "rie"
    assert context["logStreamName"]
    assert 0 < context["remainingMs"] <= 30_000


def test_environment_from_the_configuration(app: Function, variant: Variant) -> None:
    values = app.invoke({"op": "env", "names": ["GREETING", "UNSET_VARIABLE"]}).json()
    if variant.runtime.startswith("java"):
        # AWS's Java runtime serialises with aws-lambda-java-serialization's JacksonFactory,
        # which leaves out null map values: the unset variable is absent, not null.
        assert "UNSET_VARIABLE" not in values, values
        values["UNSET_VARIABLE"] = None
    assert values == {"GREETING": ENV["GREETING"], "UNSET_VARIABLE": None}


def test_tmp_write_and_read_back(app: Function) -> None:
    name = f"conformance-{uuid.uuid4().hex}.txt"
    assert app.invoke({"op": "tmp", "name": name, "text": "in /tmp: ✓"}).json() == {
        "text": "in /tmp: ✓"
    }


def test_module_state_survives_across_invocations(app: Function) -> None:
    first = app.invoke({"op": "count"}).json()
    second = app.invoke({"op": "count"}).json()
    assert second["invocations"] == first["invocations"] + 1
    assert (second["pid"], second["startedAt"]) == (first["pid"], first["startedAt"])


def test_handled_error_shape(app: Function, variant: Variant) -> None:
    error = _error(app.invoke({"op": "fail", "message": "the fence is down ✗"}))
    assert error["errorType"] == variant.error_type
    assert error["errorMessage"] == "the fence is down ✗"
    if variant.stack_key:
        assert isinstance(error[variant.stack_key], list)
    # the runtime lives on
    assert app.invoke({"op": "count"}).function_error is False


def test_stdout_and_stderr_captured_with_the_request_id(app: Function) -> None:
    marker = uuid.uuid4().hex
    result = app.invoke({"op": "log", "marker": marker})
    assert result.json() == "logged"
    assert f"to stdout {marker}" in result.log and f"to stderr {marker}" in result.log, result.log
    start = re.search(r"START RequestId: (\S+)", result.log)
    assert start, result.log
    assert result.log.index(start.group(0)) < result.log.index(f"to stdout {marker}")
    if result.request_id is not None:
        assert start.group(1) == result.request_id
        assert f"REPORT RequestId: {result.request_id}" in result.log


def _messages(error: Any) -> Iterator[str]:
    """The error's message, then its causes' (.NET reports an init failure as the reflection
    exception around the function's own, its `cause`)."""
    while isinstance(error, dict):
        yield str(error.get("errorMessage", ""))
        error = error.get("cause")


def test_init_error(deployments: Deployments, variant: Variant) -> None:
    function = deployments.get(variant, "init_error")
    error = _error(function.invoke({}))
    assert error["errorType"] == variant.init_error_type
    assert any("configuration missing at" in message for message in _messages(error)), error


def test_timeout_then_exit_then_recovery(
    deployments: Deployments, variant: Variant, target: Target
) -> None:
    function = deployments.get(variant, "short_timeout", timeout=1)
    function.invoke({"op": "count"})  # init first: the timeout counts from the event, not init
    timed_out = function.invoke({"op": "sleep", "seconds": 3})
    if target.name == "rie":  # RIE answers a timeout with a bare text body
        assert timed_out.payload == b"Task timed out after 1.00 seconds"
    else:
        error = _error(timed_out)
        assert error["errorType"] == "Sandbox.Timedout"
        assert error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    exited = _error(function.invoke({"op": "exit"}))
    assert exited["errorType"] == "Runtime.ExitError", exited
    assert "exit status 3" in exited["errorMessage"]
    fresh = function.invoke({"op": "count"})
    assert fresh.json()["invocations"] == 1, "a new runtime process serves after the exit"


# --- each language's own handler forms --------------------------------------------------------

FORMS = [
    pytest.param(v.id, handler, event, expected, id=f"{v.id}-{handler}")
    for v in VARIANTS.values()
    for handler, event, expected in v.forms
]


@pytest.mark.parametrize(("variant_id", "handler", "event", "expected"), FORMS)
def test_handler_form(
    deployments: Deployments, variant_id: str, handler: str, event: Any, expected: Any
) -> None:
    function = deployments.once(VARIANTS[variant_id], handler)
    try:
        result = function.invoke(event)
    finally:
        function.close()
    if isinstance(expected, Fails):
        error = _error(result)
        assert error["errorType"] == expected.error_type, error
        assert expected.message in error["errorMessage"], error
    elif isinstance(expected, bytes):
        assert result.payload == expected
    elif callable(expected):
        assert expected(result.json()), result.payload
    else:
        assert not result.function_error, result.payload[:500]
        assert result.json() == expected


# --- warm reuse, where it matters most --------------------------------------------------------


def test_java_warm_invocation_is_10x_faster_than_cold(deployments: Deployments) -> None:
    function = deployments.once(VARIANTS["java17"], "example.App")
    try:
        cold = function.invoke({"op": "count"})
        warm = [function.invoke({"op": "count"}) for _ in range(3)]
    finally:
        function.close()
    assert [r.json()["invocations"] for r in warm] == [2, 3, 4]
    fastest = min(r.seconds for r in warm)
    print(f"java17 cold {cold.seconds * 1000:.0f} ms, warm {fastest * 1000:.1f} ms")  # with -s
    assert cold.seconds >= 10 * fastest, (
        f"cold {cold.seconds * 1000:.0f} ms, warm {fastest * 1000:.1f} ms"
    )


# --- what is not offered, and what is -------------------------------------------------------


@pytest.mark.parametrize("target", TARGETS[:2], indirect=True)  # a server's answer: not RIE
@pytest.mark.parametrize(
    ("identifier", "reason"),
    [("dotnet8", ".NET runtimes are not available"), ("powershell", "PowerShell")],
)
def test_unbuildable_runtimes_are_refused_with_the_reason(
    target: Target, identifier: str, reason: str
) -> None:
    assert isinstance(target, ServerTarget)
    lam = target.server.client()
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as refused:
        lam.create_function(
            FunctionName=f"refused-{uuid.uuid4().hex[:8]}",
            Runtime=identifier,
            Role=ROLE,
            Handler="Assembly::Namespace.Class::Method",
            Code={"ZipFile": make_zip({"x": "y"})},
        )
    message = refused.value.response["Error"]["Message"]
    assert reason in message and "PackageType=Image" in message, message
    assert f'README section "{README_IMAGE_RECIPES}"' in message, message


@pytest.mark.docker
def test_lambkin_runtimes_lists_identifiers_with_versions() -> None:
    listing = subprocess.run(
        [sys.executable, "-m", "orchestrator", "runtimes"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    from orchestrator.runtimes import RUNTIMES

    for identifier, spec in RUNTIMES.items():
        assert identifier in listing
        # each runtime's exact language, as its image runs it (python3.13: "Python 3.13.5")
        row = next(line for line in listing.splitlines() if f" {identifier} " in line)
        assert spec.version_prefix in row, listing


@pytest.mark.docker
def test_every_family_base_is_current() -> None:
    """build-base.sh stamps each base with the hash images.py expects (script + package list)."""
    from orchestrator import images

    client = images.docker_client()
    needed = {spec.base for spec in images.RUNTIME_IMAGES.values()}
    statuses = {base: images.base_image_status(client, base) for base in needed}
    assert all(s is images.ImageStatus.CURRENT for s in statuses.values()), (
        f"{statuses}: run `make images`"
    )
