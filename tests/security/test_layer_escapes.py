"""Hostile layers. Each layer's own links were checked when it was published (the code store,
test_zip_link_escapes.py); here, layers that are harmless alone but lead out of /opt together are
refused when a function names them, leaving nothing on the host; a layer linking out of itself
is refused on publishing; and inside a container /opt is read-only."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.code_store import CodeStore
from orchestrator.layer_assembly import LayerAssembly, LayersRefused
from tests.support.aws_errors import refusal
from tests.support.server import Server, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::000000000000:role/lambda-role"

Layers = tuple[tuple[dict[str, str], dict[str, str]], ...]
# (earlier layer, later layer), each (files, links), each fine alone.
COMBINED: dict[str, Layers] = {
    # x/y is a directory in the first and a link to /opt in the second: z = x/y/.. climbs out.
    "link-replaces-directory-under-a-link": (
        ({"x/y/f": "f"}, {"z": "x/y/.."}),
        ({"x/keep": "k"}, {"x/y": ".."}),
    ),
    # The first layer's link, the second layer's file beneath the same name: written through?
    "file-under-an-earlier-link": (
        ({}, {"lib": "."}),
        ({"lib/planted": "p"}, {"lib/deeper": ".."}),
    ),
}


def store_layers(store: CodeStore, layers: Layers) -> tuple[list[Path], list[str]]:
    stored = [store.put(make_zip(files, links=links)) for files, links in layers]
    return [s.path for s in stored], [s.sha256_hex for s in stored]


def tree(root: Path) -> set[str]:
    return {
        os.path.relpath(os.path.join(d, n), root)
        for d, dirs, files in os.walk(root)
        for n in dirs + files
    }


@pytest.mark.parametrize("trick", sorted(COMBINED))
def test_layers_leading_out_together_are_refused_leaving_nothing(
    tmp_path: Path, trick: str
) -> None:
    store = CodeStore(tmp_path / "code")
    assembly_root = tmp_path / "code" / "opt"
    assembly = LayerAssembly(assembly_root)
    paths, hexes = store_layers(store, COMBINED[trick])
    before = tree(tmp_path)
    try:
        built = assembly.build(paths, hexes)
    except LayersRefused as refused:
        assert "cannot be combined" in str(refused)
        assert tree(tmp_path) == before  # no half-built /opt, nothing planted anywhere
        return
    # Accepted only if the later layer's entries replaced the link: nothing outside was written.
    assert tree(tmp_path) - before <= {os.path.relpath(p, tmp_path) for p in _under(built)}
    assert not (tmp_path / "planted").exists() and not (tmp_path / "code" / "planted").exists()


def _under(root: Path) -> set[str]:
    return {os.path.join(d, n) for d, dirs, files in os.walk(root) for n in dirs + files} | {
        str(root)
    }


PROBE = """
import os
def handler(event, context):
    results = {}
    for path in ("/opt/planted", "/opt/python/planted", "/opt/extensions/x"):
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            open(path, "w").write("x")
            results[path] = "written"
        except OSError as exc:
            results[path] = exc.strerror
    results["link_target"] = os.path.realpath("/opt/python/alias.py")
    return results
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("layer-probes"))
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.mark.docker
def test_opt_is_read_only_and_its_links_stay_in_the_container(server: Server) -> None:
    lam = server.client()
    for escape in ("..", "/etc", "python/../.."):  # out of the layer: refused on publishing
        status, code, message = refusal(
            lam.publish_layer_version,
            LayerName=f"probe-{uuid.uuid4().hex[:8]}",
            Content={"ZipFile": make_zip({"python/lib.py": "X = 1\n"}, links={"up": escape})},
        )
        assert (status, code) == (400, "InvalidParameterValueException"), message
    layer = lam.publish_layer_version(
        LayerName=f"probe-{uuid.uuid4().hex[:8]}",
        Content={
            "ZipFile": make_zip({"python/lib.py": "X = 1\n"}, links={"python/alias.py": "lib.py"})
        },
    )["LayerVersionArn"]
    name = f"layer-probe-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": make_zip({"app.py": PROBE})}, Layers=[layer],
    )  # fmt: skip
    answer = lam.invoke(FunctionName=name)
    found = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, found
    for path in ("/opt/planted", "/opt/python/planted", "/opt/extensions/x"):
        assert found[path] == "Read-only file system", found
    assert found["link_target"] == "/opt/python/lib.py"  # a link inside the layer is kept
