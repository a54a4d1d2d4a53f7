"""The swarm cluster, brought up once for every swarm test (tests/support/swarm_cluster.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import docker_required
from tests.support.swarm_cluster import Cluster, ClusterUnavailable, bring_up, tear_down


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
