"""`lambkin deploy --template` and `lambkin delete --template` against a real server on each
driver: a SAM template with two functions, a layer, an alias (AutoPublishAlias) with a URL and
asynchronous settings deploys, answers, redeploys changing only what changed, and is deleted; a
template with resources Lambkin does not create lists them; bad templates get words, not
tracebacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import Server, free_port, start_server

SAM_APP = Path(__file__).parent / "functions" / "sam_app"
DRIVERS = [pytest.param("docker", marks=pytest.mark.docker), "process"]


@pytest.fixture(scope="module", params=DRIVERS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"sam-{request.param}"))
    yield srv
    assert srv.stop() == 0, srv.log()


def lambkin(server: Server | str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    endpoint = server if isinstance(server, str) else server.endpoint
    env = {**os.environ, "LAMBKIN_ENDPOINT": endpoint, "COLUMNS": "200"}
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        env.pop(key, None)  # an open server: the CLI sends unsigned requests
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(cwd / "no-credentials")
    env["AWS_CONFIG_FILE"] = str(cwd / "no-config")
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def plan_rows(output: str) -> dict[str, str]:
    """logical id -> action, from the plan table."""
    rows: dict[str, str] = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) >= 3 and cells[0] in ("create", "update", "unchanged", "not created"):
            rows[cells[2]] = cells[0]
    return rows


def test_a_sam_app_deploys_redeploys_only_what_changed_and_is_deleted(
    server: Server, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    shutil.copytree(SAM_APP, app)
    stack = f"sam-{server.driver}"
    deploy = ("deploy", "--template", "template.yaml", "--stack-name", stack)
    lam = server.client()

    planned = lambkin(server, *deploy, "--plan-only", cwd=app)
    assert planned.returncode == 0, planned.stderr
    rows = plan_rows(planned.stderr)
    assert rows["Hello"] == rows["World"] == rows["HelloAliaslive"] == rows["HelloUrl"] == "create"
    assert rows["HelloRole"] == "not created", planned.stderr  # roles: the credentials file
    assert stack not in json.dumps(lam.list_functions()["Functions"])  # a plan changes nothing

    first = lambkin(server, *deploy, cwd=app)
    assert first.returncode == 0, first.stderr
    hello, world = f"{stack}-Hello", f"{stack}-World"
    answer = json.loads(lam.invoke(FunctionName=f"{hello}:live", Payload=b"{}")["Payload"].read())
    assert answer == {"hello": "HELLO!", "version": "1"}  # the layer's code, version 1
    peer = json.loads(lam.invoke(FunctionName=world, Payload=b"{}")["Payload"].read())
    assert peer == {
        "world": "Hello",
        "peer": f"arn:aws:lambda:us-east-1:000000000000:function:{hello}",
        "stage": f"{stack}-world",
    }
    url = lam.get_function_url_config(FunctionName=hello, Qualifier="live")["FunctionUrl"]
    through_url = httpx.get(f"{server.endpoint}/", headers={"Host": url.split("//")[1].rstrip("/")})
    assert through_url.status_code == 200 and through_url.json()["hello"] == "HELLO!"
    assert lam.get_function_concurrency(FunctionName=hello)["ReservedConcurrentExecutions"] == 4
    assert (
        lam.get_function_event_invoke_config(FunctionName=hello, Qualifier="live")[
            "MaximumRetryAttempts"
        ]
        == 0
    )
    assert lam.get_function_configuration(FunctionName=world)["MemorySize"] == 256
    tags = lam.get_function(FunctionName=hello)["Tags"]
    assert tags["lambkin:stack"] == stack and tags["lambkin:logical-id"] == "Hello"

    def modified() -> dict[str, str]:
        return {
            fn: lam.get_function_configuration(FunctionName=fn)["LastModified"]
            for fn in (hello, world)
        }

    before = modified()
    again = lambkin(server, *deploy, cwd=app)
    assert again.returncode == 0 and "nothing to change" in again.stderr, again.stderr
    assert modified() == before

    (app / "hello" / "app.py").write_text(
        (app / "hello" / "app.py").read_text().replace('{"hello"', '{"edited": True, "hello"')
    )
    changed = lambkin(server, *deploy, cwd=app)
    assert changed.returncode == 0, changed.stderr
    rows = plan_rows(changed.stderr)
    assert rows["Hello"] == "update" and rows["World"] == "unchanged", changed.stderr
    assert rows["HelloAliaslive"] == "update" and rows["Libs2dc4c53c50"] == "unchanged"
    after = modified()
    assert after[world] == before[world] and after[hello] != before[hello]
    answer = json.loads(lam.invoke(FunctionName=f"{hello}:live", Payload=b"{}")["Payload"].read())
    assert answer == {"edited": True, "hello": "HELLO!", "version": "2"}

    overridden = lambkin(server, *deploy, "--parameter-overrides", "Greeting=Bonjour", cwd=app)
    assert overridden.returncode == 0, overridden.stderr
    peer = json.loads(lam.invoke(FunctionName=world, Payload=b"{}")["Payload"].read())
    assert peer["world"] == "Bonjour"

    deleted = lambkin(
        server, "delete", "--template", "template.yaml", "--stack-name", stack, cwd=app
    )
    assert deleted.returncode == 0, deleted.stderr
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert hello not in names and world not in names
    assert lam.list_layer_versions(LayerName="Libs")["LayerVersions"] == []


UNSUPPORTED = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Uploads:
    Type: AWS::S3::Bucket
  Orders:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: index.handler  # inline code is index.py, as CloudFormation writes it
      InlineCode: "def handler(event, context):\\n    return 'inline'\\n"
      Environment:
        Variables:
          BUCKET: !Ref Uploads
"""


def test_resources_lambkin_does_not_create_are_listed_and_strict_refuses(
    server: Server, tmp_path: Path
) -> None:
    (tmp_path / "template.yaml").write_text(UNSUPPORTED)
    stack = f"unsupported-{server.driver}"
    args = ("deploy", "--template", "template.yaml", "--stack-name", stack)
    strict = lambkin(server, *args, "--strict", cwd=tmp_path)
    assert strict.returncode == 1, strict.stderr
    assert "Uploads (AWS::S3::Bucket)" in strict.stderr
    assert "Orders (AWS::DynamoDB::Table)" in strict.stderr
    lam = server.client()
    assert f"{stack}-Fn" not in json.dumps(lam.list_functions()["Functions"])
    deployed = lambkin(server, *args, cwd=tmp_path)
    assert deployed.returncode == 0 and "2 resource(s) Lambkin does not create" in deployed.stderr
    result = lam.invoke(FunctionName=f"{stack}-Fn", Payload=b"{}")
    assert json.loads(result["Payload"].read()) == "inline"  # inline code, as index.py
    env = lam.get_function_configuration(FunctionName=f"{stack}-Fn")["Environment"]
    assert env["Variables"]["BUCKET"] == "Uploads"  # a Ref to what was not created: its name


@pytest.mark.parametrize(
    ("template", "args", "words"),
    [
        ("Resources: [unclosed", (), "not valid YAML at line 1"),
        ("Description: no resources\n", (), "a template is a mapping with a Resources section"),
        (
            "Parameters:\n  Stage: {Type: String}\nResources:\n  X: {Type: AWS::S3::Bucket}\n",
            (),
            "parameter Stage has no Default",
        ),
        (
            "Resources:\n  X: {Type: AWS::S3::Bucket}\n",
            ("--parameter-overrides", "Nope=1"),
            "are not in the template's Parameters",
        ),
        (
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n"
            "    Type: AWS::Serverless::Function\n"
            "    Properties: {CodeUri: missing/, Handler: a.b, Runtime: python3.11}\n",
            (),
            "does not exist",
        ),
        (
            "Resources:\n  A: {Type: AWS::S3::Bucket, DependsOn: B}\n"
            "  B: {Type: AWS::S3::Bucket, DependsOn: A}\n",
            (),
            "in a circle: A -> B -> A",
        ),
        (
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n"
            "    Type: AWS::Serverless::Function\n    Properties: {Handler: 7}\n",
            (),
            "the SAM translator refused the template",
        ),
    ],
)
def test_bad_templates_get_words_not_tracebacks(
    tmp_path: Path, template: str, args: tuple[str, ...], words: str
) -> None:
    """Refused before the server is asked anything (the endpoint has no server)."""
    (tmp_path / "template.yaml").write_text(template)
    nowhere = f"http://127.0.0.1:{free_port()}"
    run = lambkin(nowhere, "deploy", "--template", "template.yaml", *args, cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    assert words in run.stderr and "Traceback" not in run.stderr, run.stderr
