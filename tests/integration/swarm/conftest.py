"""One swarm server for the swarm tests that need no server of their own: starting one costs
its gateways on every node, and the CI budget is tight (tests/integration/swarm)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import Client, Server, start_server
from tests.support.swarm_cluster import Cluster


@pytest.fixture(scope="package")
def server(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(
        "swarm",
        tmp_path_factory.mktemp("swarm"),
        # A short vacancy window: the recovery test waits for this server's vacancies to go.
        env={
            **cluster.env,
            "LAMBKIN_MAINTENANCE_INTERVAL_S": "0.2",
            "LAMBKIN_VACANCY_WINDOW_S": "20",
        },
    )
    yield srv
    assert srv.stop() == 0, srv.log()


@pytest.fixture(scope="package")
def lam(server: Server) -> Client:
    return server.client(max_pool_connections=16)
