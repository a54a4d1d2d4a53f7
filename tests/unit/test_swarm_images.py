"""Which runtimes the swarm driver offers and publishes at start-up, how it tags what it
publishes, and that concurrent first starts publish an image once: pure, with tables and a
fake push."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from orchestrator.drivers.swarm_images import (
    Publisher,
    PublishFailed,
    offered_runtimes,
    publish_at_start,
    published_tag,
)
from orchestrator.drivers.swarm_instance_images import function_repository


@pytest.mark.parametrize(
    ("tags", "offered"),
    [
        (set(), []),
        ({"lambkin/python3.11:latest"}, ["python3.11"]),
        (
            {"lambkin/java17:latest", "lambkin/provided.al2023:latest", "lambkin/go:latest"},
            # only runtimes Lambkin knows; provided.al2 runs in provided.al2023's image
            ["java17", "provided.al2", "provided.al2023"],
        ),
        ({"lambkin/java17:old", "other/python3.11:latest"}, []),  # :latest of our prefix only
    ],
)
def test_every_runtime_whose_image_the_host_has_is_offered(
    tags: set[str], offered: list[str]
) -> None:
    assert offered_runtimes(tags, "lambkin") == offered


@pytest.mark.parametrize(
    ("listed", "offered", "ahead"),
    [
        ([], ["python3.11", "java17"], []),  # each on its first instance
        (["java17"], ["python3.11", "java17"], ["java17"]),
        (["python3.11", "python3.11"], ["python3.11"], ["python3.11"]),
    ],
)
def test_what_is_published_at_start_up(
    listed: list[str], offered: list[str], ahead: list[str]
) -> None:
    assert publish_at_start(listed, offered) == ahead


@pytest.mark.parametrize(
    ("listed", "offered", "says"),
    [
        (["java17"], ["python3.11"], "no image of java17 (it is listed to publish)"),
        (["jav17"], ["python3.11"], "'jav17', which is no runtime"),
    ],
)
def test_what_cannot_be_published_at_start_up_says_what_to_do(
    listed: list[str], offered: list[str], says: str
) -> None:
    with pytest.raises(ValueError) as caught:
        publish_at_start(listed, offered)
    assert says in str(caught.value)
    assert "build it" in str(caught.value) or "use identifiers" in str(caught.value)


def test_tags_name_the_image_and_the_agent() -> None:
    assert published_tag("sha256:" + "a" * 64, "b" * 64) == "a" * 16 + "-" + "b" * 16
    assert function_repository("lambkin") == "lambkin/functions"


class FakePush:
    """Counts pushes; each takes a moment, so that concurrent first starts overlap it."""

    def __init__(self) -> None:
        self.pushes: list[tuple[str, str]] = []
        self.published: list[str] = []
        self._lock = threading.Lock()

    def push(self, image_id: str, repository: str) -> str:
        time.sleep(0.05)
        with self._lock:
            self.pushes.append((image_id, repository))
        return f"pull:5000/{repository}:{image_id}"


def publisher(fake: FakePush) -> Publisher:
    ids = {"lambkin/java17": "id-java", "lambkin/python3.11": "id-py", "app:1": "id-app"}
    return Publisher(ids.get, fake.push, fake.published.append)


def test_concurrent_first_starts_publish_an_image_once() -> None:
    fake = FakePush()
    images = publisher(fake)
    asks = ["lambkin/java17"] * 6 + ["lambkin/python3.11"] * 2
    with ThreadPoolExecutor(len(asks)) as pool:
        got = list(pool.map(lambda i: images.image_for(i, i, "missing"), asks))
    assert sorted(fake.pushes) == [("id-java", "lambkin/java17"), ("id-py", "lambkin/python3.11")]
    assert (
        got == ["pull:5000/lambkin/java17:id-java"] * 6 + ["pull:5000/lambkin/python3.11:id-py"] * 2
    )
    assert sorted(fake.published) == sorted(set(got))  # each announced (prefetched) once
    images.image_for("lambkin/java17", "lambkin/java17", "missing")  # cached thereafter
    assert len(fake.pushes) == 2


def test_an_image_the_host_lacks_is_refused_with_what_to_do() -> None:
    images = publisher(FakePush())
    with pytest.raises(PublishFailed, match="build it with make images"):
        images.image_for("lambkin/ruby3.3", "lambkin/ruby3.3", "build it with make images")


def test_a_failed_push_is_tried_again_by_the_next_start() -> None:
    fake = FakePush()
    calls = []

    def flaky(image_id: str, repository: str) -> str:
        calls.append(image_id)
        if len(calls) == 1:
            raise PublishFailed("registry down")
        return fake.push(image_id, repository)

    images = Publisher({"app:1": "id-app"}.get, flaky, fake.published.append)
    with pytest.raises(PublishFailed):
        images.image_for("app:1", "lambkin/functions", "missing")
    assert images.image_for("app:1", "lambkin/functions", "missing").endswith(":id-app")
