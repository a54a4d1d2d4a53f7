"""What Python function code expects to find: boto3 and botocore ship in the python3.11 image, as
in AWS's Python runtimes, so code that does not bundle them imports them: the pinned versions
of runtime-images/python/sdk-requirements.txt, in the runtime's own directory (as on Lambda),
recent enough to read the SDKs' AWS_ENDPOINT_URL_<SERVICE> variables.

Our own runtime client never imports them (an idle instance stays small), so they are loaded only
when the function asks for them. No network call is made.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.server import Server, create_and_invoke, start_server
from tests.support.zips import make_zip

pytestmark = pytest.mark.docker

PINS = dict(
    line.split("==")
    for line in (Path(__file__).parents[2] / "runtime-images/python/sdk-requirements.txt")
    .read_text()
    .splitlines()
    if "==" in line
)

APP = """\
import sys

# Before anything here imports them: what the runtime client itself loaded.
LOADED_BY_RUNTIME = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))

import boto3  # noqa: E402
import botocore  # noqa: E402


def handler(event, context):
    s3 = boto3.client("s3", region_name="eu-west-1")  # no request is sent
    import os
    os.environ["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:1"
    sts = boto3.client("sts", region_name="eu-west-1")  # read from the environment
    return {
        "loaded_by_runtime": LOADED_BY_RUNTIME,
        "boto3": boto3.__version__,
        "botocore": botocore.__version__,
        "boto3_file": boto3.__file__,
        "client": type(s3).__name__,
        "endpoint": s3.meta.endpoint_url,
        "sts_endpoint": sts.meta.endpoint_url,
    }
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("boto3"))
    yield srv
    assert srv.stop() == 0, srv.log()


def test_python_function_imports_boto3_from_the_image(server: Server) -> None:
    found = create_and_invoke(server, make_zip({"app.py": APP}))  # boto3 is not bundled
    assert found["loaded_by_runtime"] == []
    assert (found["boto3"], found["botocore"]) == (PINS["boto3"], PINS["botocore"]), found
    assert found["boto3_file"] == "/var/runtime/boto3/__init__.py", found
    assert found["sts_endpoint"] == "http://127.0.0.1:1"  # AWS_ENDPOINT_URL_<SERVICE> is read
    assert found["client"] == "S3"
    assert found["endpoint"] == "https://s3.eu-west-1.amazonaws.com"


def test_a_boto3_bundled_in_the_zip_comes_first(server: Server) -> None:
    app = "import boto3\n\ndef handler(event, context):\n    return boto3.__version__\n"
    bundled = make_zip({"app.py": app, "boto3/__init__.py": "__version__ = 'bundled'\n"})
    assert create_and_invoke(server, bundled) == "bundled"
