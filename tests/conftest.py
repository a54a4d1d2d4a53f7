"""Shared test configuration.

Docker tests are marked `docker`. Without an engine they skip, unless LAMBKIN_REQUIRE_DOCKER=1
(CI sets it), in which case they fail: a missing engine must never pass silently.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.swarm_cluster import Cluster, ClusterUnavailable, bring_up, tear_down


def docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
        return True
    except Exception:
        return False


def docker_required() -> bool:
    return os.environ.get("LAMBKIN_REQUIRE_DOCKER") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not any(item.get_closest_marker("docker") for item in items):
        return
    if docker_available():
        return
    for item in items:
        if item.get_closest_marker("docker"):
            if docker_required():
                item.add_marker(pytest.mark.usefixtures("_docker_missing_is_an_error"))
            else:
                item.add_marker(
                    pytest.mark.skip(
                        reason="no Docker engine (set LAMBKIN_REQUIRE_DOCKER=1 to fail instead)"
                    )
                )


@pytest.fixture
def _docker_missing_is_an_error() -> None:
    pytest.fail(
        "LAMBKIN_REQUIRE_DOCKER=1 but no Docker engine answers: start dockerd (see .ci/run)"
    )


@pytest.fixture(scope="session", autouse=True)
def _no_instances_left_behind() -> object:
    """After the whole suite, no container or agent process of ours may remain."""
    yield
    from tests.support.leftovers import leftovers
    from tests.support.server import STARTED_SERVER_IDS

    drivers = ["process", "docker"] if docker_available() else ["process"]
    left = {
        sid: found for sid in STARTED_SERVER_IDS for d in drivers if (found := leftovers(d, sid))
    }
    assert left == {}, f"instances left behind by the suite's servers: {left}"


# The swarm cluster, brought up once for every swarm test, integration and security alike
# (tests/support/swarm_cluster.py).
@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    try:
        found = bring_up()
    except ClusterUnavailable as exc:
        if docker_required():
            pytest.fail(f"LAMBKIN_REQUIRE_DOCKER=1 and the swarm cluster cannot come up: {exc}")
        pytest.skip(f"no swarm cluster here: {exc}")
    print(f"swarm cluster up in {found.up_seconds:.1f} s")
    yield found
    tear_down(found)
