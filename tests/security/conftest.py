"""The security tests' server: a real one, on the docker driver, shared by the whole directory."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import Server, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server("docker", tmp_path_factory.mktemp("security"))
    yield srv
    assert srv.stop() == 0, srv.log()
