"""Symbolic links in a function's zip, through boto3 against a real server: links that stay inside
the package are there at run time (a module imported through a linked directory, a file read
through a `.so`-style link, npm's `.bin` link); a link leading out is refused and writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.server import Server, create_and_invoke, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]

PYTHON_APP = """\
import os
import shared  # vendor/shared_impl, through the link `shared`


def handler(event, context):
    with open("lib/libgreet.so", "rb") as f:  # lib/libgreet.so -> libgreet.so.1 -> ...1.2
        library = f.read().decode()
    return {
        "module": shared.VALUE,
        "module_file": os.path.relpath(shared.__file__, os.environ["LAMBDA_TASK_ROOT"]),
        "library": library,
        "link": os.readlink("lib/libgreet.so"),
    }
"""
PYTHON_ZIP = make_zip(
    {
        "app.py": PYTHON_APP,
        "vendor/shared_impl/__init__.py": "VALUE = 'imported through a link'\n",
        "lib/libgreet.so.1.2": "the library itself",
    },
    links={
        "shared": "vendor/shared_impl",
        "lib/libgreet.so.1": "libgreet.so.1.2",
        "lib/libgreet.so": "libgreet.so.1",
    },
)

NODE_APP = """\
const fs = require("fs");
const path = require("path");
const greet = require("greet"); // node_modules/greet -> ../vendor/greet, as pnpm lays it out

exports.handler = async () => {
  const bin = path.join(__dirname, "node_modules/.bin/greet");
  return { greet: greet(), bin: fs.readlinkSync(bin), cli: fs.readFileSync(bin, "utf8") };
};
"""
NODE_ZIP = make_zip(
    {
        "index.js": NODE_APP,
        "vendor/greet/index.js": 'module.exports = () => "hello through a link";\n',
        "vendor/greet/bin/cli.js": "#!/usr/bin/env node\n",
    },
    links={
        "node_modules/greet": "../vendor/greet",
        "node_modules/.bin/greet": "../greet/bin/cli.js",
    },
)


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"links-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


def test_python_function_imports_and_reads_through_kept_links(server: Server) -> None:
    assert create_and_invoke(server, PYTHON_ZIP) == {
        "module": "imported through a link",
        "module_file": "shared/__init__.py",
        "library": "the library itself",
        "link": "libgreet.so.1",
    }


def test_node_function_requires_through_kept_links(server: Server) -> None:
    assert create_and_invoke(server, NODE_ZIP, "nodejs18.x", "index.handler") == {
        "greet": "hello through a link",
        "bin": "../greet/bin/cli.js",
        "cli": "#!/usr/bin/env node\n",
    }


def test_link_leading_out_is_refused_and_writes_nothing(server: Server) -> None:
    lam = server.client()
    before = sorted(p.name for p in server.data_dir.parent.iterdir())
    hostile = make_zip(
        {"app.py": "def handler(e, c): return 1\n", "out/planted.txt": "outside?"},
        links={"out": "../../.."},
    )
    with pytest.raises(lam.exceptions.InvalidParameterValueException) as refused:
        lam.create_function(
            FunctionName=f"links-{uuid.uuid4().hex[:8]}",
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"ZipFile": hostile},
        )
    message = refused.value.response["Error"]["Message"]
    assert message.startswith("Zip entry 'out"), message
    assert sorted(p.name for p in server.data_dir.parent.iterdir()) == before
    assert not list(server.data_dir.parent.rglob("planted.txt"))
