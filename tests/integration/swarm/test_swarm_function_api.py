"""Functions on the swarm calling the platform (as tests/security/test_function_api_access.py
does on docker and process): on a server with a credentials file, each instance gets its role's
temporary credentials and `http://lambkin-api:9101`, its node's gateway, which hands the call
to a connection the control plane offered it (swarm_api_relay.py). The role decides what the
function may do, and the platform's metrics are not served to it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.security.test_function_api_access import (
    CALLER,
    ECHO,
    ORDERS_ROLE,
    denied,
    deploy,
    function_arn,
    invoke,
)
from tests.support.server import Server, start_server
from tests.support.signing import write_credentials
from tests.support.swarm_cluster import Cluster

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def guarded(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("swarm-function-api")
    credentials = write_credentials(data / "credentials.toml")
    server = start_server(
        "swarm", data, args=("--credentials-file", str(credentials)), env=cluster.env
    )
    yield server
    assert server.stop() == 0, server.log()


def test_a_function_on_the_swarm_calls_another_with_its_roles_credentials(guarded: Server) -> None:
    suffix = uuid.uuid4().hex[:6]
    caller, target, other = f"orders-caller-{suffix}", f"orders-echo-{suffix}", f"billing-{suffix}"
    deploy(guarded, caller, CALLER, ORDERS_ROLE)
    deploy(guarded, target, ECHO, ORDERS_ROLE)
    deploy(guarded, other, ECHO, ORDERS_ROLE)

    out = invoke(guarded, caller, {"invoke": [target, other]})

    assert out["key"].startswith("ASIA"), out
    assert out["endpoint"] == out["logs_endpoint"] == "http://lambkin-api:9101", out
    # The call crossed the caller's node's gateway, ran the target on the swarm, came back.
    assert out[target] == {"echo": {"from": caller}, "me": target}
    assert out[other] == denied(ORDERS_ROLE, caller, "lambda:InvokeFunction", function_arn(other))
    assert out["create"] == denied(
        ORDERS_ROLE, caller, "lambda:CreateFunction", function_arn("orders-planted")
    )
    assert out["logs"][0] == "AccessDeniedException", out["logs"]
    assert out["forged"][0] == "UnrecognizedClientException", out["forged"]
    assert out["metrics"] == 404, out  # a listener of the instances' own, not the main one
