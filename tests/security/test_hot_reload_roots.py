"""Hot reload mounts a folder of the server's machine into instances: only folders under the
roots the operator named may be served, whatever path tricks the caller tries; without a root,
hot reload is refused; a refusal changes nothing that was stored."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.support.server import Server, start_server
from tests.support.zips import make_zip

ROLE = "arn:aws:iam::123456789012:role/lambda-role"
ZIP = make_zip({"app.py": "def handler(event, context):\n    return 'zip code'\n"})


@pytest.fixture(scope="module")
def rooted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    base = tmp_path_factory.mktemp("hot-roots")
    root = base / "root"
    (root / "ok").mkdir(parents=True)
    (root / "ok" / "app.py").write_text("def handler(event, context):\n    return 'folder'\n")
    (base / "outside").mkdir()
    (base / "outside" / "app.py").write_text("def handler(e, c):\n    return 'escaped'\n")
    os.symlink(base / "outside", root / "link-out")
    (root / "a-file").write_text("not a folder")
    srv = start_server("process", base / "data", args=("--hot-reload-root", str(root)))
    yield srv, root
    assert srv.stop() == 0, srv.log()


def refusal(call: object, **kwargs: object) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)  # type: ignore[operator]
    error = refused.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_without_a_root_hot_reload_is_refused_with_what_to_do(tmp_path: Path) -> None:
    srv = start_server("process", tmp_path / "data")
    try:
        code, message = refusal(
            srv.client().create_function,
            FunctionName="hot-off",
            Runtime="python3.11",
            Role=ROLE,
            Handler="app.handler",
            Code={"S3Bucket": "hot-reload", "S3Key": str(tmp_path)},
        )
        assert code == "InvalidParameterValueException"
        assert "--hot-reload-root" in message
        assert srv.client().list_functions()["Functions"] == []
    finally:
        assert srv.stop() == 0, srv.log()


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("/etc", "is not under a hot-reload root"),
        ("/", "is not under a hot-reload root"),
        ("relative/path", "absolute path"),
        ("{root}/../outside", "is not under a hot-reload root"),
        ("{root}/ok/../../outside", "is not under a hot-reload root"),
        ("{root}/link-out", "is not under a hot-reload root"),  # a symbolic link out
        ("{root}/a-file", "is not a folder"),
        ("{root}/missing", "is not a folder"),
        ("{root}\x00/ok", "absolute path"),
        ("/" + "a/" * 3000, "absolute path"),
    ],
)
def test_only_folders_under_a_root_are_served(
    rooted: tuple[Server, Path], key: str, words: str
) -> None:
    srv, root = rooted
    lam = srv.client()
    name = f"hot-{uuid.uuid4().hex[:6]}"
    lam.create_function(
        FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"ZipFile": ZIP},
    )  # fmt: skip
    location = key.format(root=root)
    code, message = refusal(
        lam.create_function,
        FunctionName=f"{name}-new",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": location},
    )
    assert code in ("InvalidParameterValueException", "ValidationException"), message
    assert words in message
    code, message = refusal(
        lam.update_function_code, FunctionName=name, S3Bucket="hot-reload", S3Key=location
    )
    assert words in message
    # nothing changed: the function still runs its zip, the refused one does not exist
    answer = json.loads(lam.invoke(FunctionName=name)["Payload"].read())
    assert answer == "zip code"
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert f"{name}-new" not in names


def test_a_folder_under_the_root_is_served_and_other_buckets_are_not_hot_reload(
    rooted: tuple[Server, Path],
) -> None:
    srv, root = rooted
    lam = srv.client()
    lam.create_function(
        FunctionName="hot-ok", Runtime="python3.11", Role=ROLE, Handler="app.handler",
        Code={"S3Bucket": "hot-reload", "S3Key": str(root / "ok")},
    )  # fmt: skip
    assert json.loads(lam.invoke(FunctionName="hot-ok")["Payload"].read()) == "folder"
    code, message = refusal(
        lam.create_function,
        FunctionName="from-s3",
        Runtime="python3.11",
        Role=ROLE,
        Handler="app.handler",
        Code={"S3Bucket": "my-bucket", "S3Key": str(root / "ok")},
    )
    assert "Only Code.ZipFile is supported" in message
