"""Java handlers typed with AWS's `aws-lambda-java-events` classes, compiled here against AWS's
real jars (aws-lambda-java-core from the runtime's java-libs.txt, aws-lambda-java-events and its
joda-time fetched with mvn into the oracle cache) and bundled in the zip's lib/ as users bundle
them, then invoked through boto3 on the docker driver: the runtime deserialises each event with
aws-lambda-java-serialization's mixins (`eventSourceARN`, `detail-type`, a Joda `DateTime`) and
serialises the response type, and the JVM's heap is 85% of MemorySize, as on AWS."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator import images, java_libs
from tests.support.oracles import cache_dir, locked
from tests.support.server import Server, start_server

pytestmark = pytest.mark.docker

# The events library and the joda-time it depends on (its pom's version), pinned here.
EVENTS = ("com.amazonaws:aws-lambda-java-events:3.16.1", "joda-time:joda-time:2.10.8")
SOURCES = Path(__file__).resolve().parent / "functions" / "java_events"
ROLE = "arn:aws:iam::000000000000:role/lambda-role"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("java-events"))
    yield srv
    assert srv.stop() == 0, srv.log()


def events_jars() -> list[Path]:
    """aws-lambda-java-events and joda-time, fetched once with mvn into the oracle cache."""
    target = cache_dir() / "java-events" / "-".join(c.rsplit(":", 1)[1] for c in EVENTS)
    with locked("java-events"):
        if not target.is_dir():
            partial = target.with_name(target.name + ".partial")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            for coordinate in EVENTS:
                subprocess.run(
                    ["mvn", "-B", "-q", "dependency:copy", f"-Dartifact={coordinate}"]
                    + [f"-DoutputDirectory={partial}"],
                    cwd=partial,
                    check=True,
                    timeout=300,
                )
            partial.rename(target)
    return [target / java_libs.jar_name(coordinate) for coordinate in EVENTS]


@pytest.fixture(scope="module")
def code(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The handlers compiled against the real jars, zipped in Lambda's layout (lib/*.jar)."""
    assert shutil.which("javac") and shutil.which("mvn"), "needs a JDK and Maven"
    core = java_libs.jars(images.JAVA_LIBS, lambda line: None)[0]
    bundled = events_jars()
    classes = tmp_path_factory.mktemp("java-events-classes")
    subprocess.run(
        ["javac", "--release", "17", "-nowarn", "-d", str(classes)]
        + ["-cp", ":".join(map(str, [core, *bundled]))]
        + [str(p) for p in sorted(SOURCES.rglob("*.java"))],
        check=True,
        timeout=120,
    )
    zipped = classes.parent / "java-events.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        for path in sorted(classes.rglob("*.class")):
            archive.write(path, path.relative_to(classes).as_posix())
        for jar in bundled:  # as users bundle aws-lambda-java-events: AWS's runtime lacks it
            archive.write(jar, f"lib/{jar.name}")
    return zipped.read_bytes()


def invoke(server: Server, code: bytes, handler: str, event: Any, memory: int = 256) -> Any:
    lam = server.client()
    name = f"jev-{uuid.uuid4().hex[:10]}"
    lam.create_function(
        FunctionName=name,
        Runtime="java17",
        Role=ROLE,
        Handler=handler,
        Code={"ZipFile": code},
        MemorySize=memory,
        Timeout=30,
    )
    try:
        lam.get_waiter("function_active_v2").wait(FunctionName=name)
        response = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
        body = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, body
        return body
    finally:
        lam.delete_function(FunctionName=name)


HTTP_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/orders/7",
    "rawQueryString": "name=Ada",
    "cookies": ["session=abc"],
    "headers": {"user-agent": "curl/8.0", "content-type": "application/json"},
    "queryStringParameters": {"name": "Ada"},
    "requestContext": {
        "accountId": "123456789012",
        "apiId": "api",
        "domainName": "id.lambda-url.us-east-1.on.aws",
        "http": {
            "method": "POST",
            "path": "/orders/7",
            "protocol": "HTTP/1.1",
            "sourceIp": "198.51.100.1",
            "userAgent": "curl/8.0",
        },
        "requestId": "req-1",
        "routeKey": "$default",
        "stage": "$default",
        "time": "12/Mar/2026:19:03:58 +0000",
        "timeEpoch": 1773342238000,
    },
    "body": "{}",
    "isBase64Encoded": False,
}


def test_api_gateway_v2_http_event_and_response(server: Server, code: bytes) -> None:
    answer = invoke(server, code, "example.Events$Http", HTTP_EVENT)
    assert answer["statusCode"] == 201
    assert answer["headers"] == {"content-type": "text/plain"}
    assert answer["body"] == (
        "POST /orders/7 name=Ada agent=curl/8.0 cookies=[session=abc] base64=false"
    )


def test_sqs_event_through_the_mixins(server: Server, code: bytes) -> None:
    event = {
        "Records": [
            {
                "messageId": f"m-{n}",
                "receiptHandle": "handle",
                "body": f"order {n}",
                "attributes": {"ApproximateReceiveCount": str(n)},
                "messageAttributes": {
                    "colour": {"stringValue": "blue", "dataType": "String", "binaryListValues": []}
                },
                "md5OfBody": "0" * 32,
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:orders",
                "awsRegion": "us-east-1",
            }
            for n in (1, 2)
        ]
    }
    answer = invoke(server, code, "example.Events::sqs", event)
    assert answer == [
        {
            "messageId": f"m-{n}",
            "body": f"order {n}",
            "eventSourceArn": "arn:aws:sqs:us-east-1:123456789012:orders",
            "awsRegion": "us-east-1",
            "approximateReceiveCount": str(n),
            "colour": "blue",
        }
        for n in (1, 2)
    ]


def test_scheduled_event_and_the_heap_sized_from_memory(server: Server, code: bytes) -> None:
    event = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-03-12T19:03:58Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly"],
        "detail": {"kind": "nightly"},
    }
    answer = invoke(server, code, "example.Events::scheduled", event, memory=512)
    assert answer["detailType"] == "Scheduled Event"
    assert answer["source"] == "aws.events"
    assert answer["timeMillis"] == 1773342238000
    assert answer["resources"] == ["arn:aws:events:us-east-1:123456789012:rule/nightly"]
    assert answer["detail"] == {"kind": "nightly"}
    assert answer["memoryLimitInMB"] == 512
    # AWS's Java 17 runtime: -XX:MaxHeapSize at 85% of the memory (512 MB -> 445645k).
    assert "-XX:MaxHeapSize=445645k" in answer["jvmArguments"], answer["jvmArguments"]
    assert "-XX:+UseSerialGC" in answer["jvmArguments"]
    assert 0.8 * 445645 * 1024 < answer["maxMemory"] <= 445645 * 1024
