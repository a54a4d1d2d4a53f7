"""The swarm driver's gateways: one container per node (the agent binary as `lambkin-agent
gateway`, runtime-images/agent/gateway.go: HTTP CONNECT to agents' control ports, with a
token), attached to the overlay network of each instance on that node, through which the
control plane reaches those instances' agents (tunnel.py).

Why one per node, not one on the manager: a container attached to an overlay network is a
task to Swarm's scheduler (a network attachment), and the scheduler places a new service where
the fewest tasks are. One gateway attached to every instance's network would make its node
the busiest by as many tasks as there are instances, and Swarm would stop placing instances
there. With a gateway per node, attached only to its own node's instances, every node carries
one attachment per instance: the ranking is what it would be without them.

The price: the control plane needs every node's Engine API (LAMBKIN_SWARM_NODE_ENGINE, a
template on the node's hostname), not the manager's alone. A gateway starts on a node the
first time an instance runs there, from a published runtime image (every one has the agent in
it); each gateway has a token of its own. (The same per-node access lets the driver have every node
pull a newly published image ahead of its first instance there: `pull`.)
"""

from __future__ import annotations

import logging
import secrets
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors

from .base import AGENT_CONTROL_PORT, LABEL_MANAGED, LABEL_SERVER, StartFailed
from .swarm_images import AGENT_PATH
from .tunnel import Gateway

log = logging.getLogger(__name__)

GATEWAY_PORT = 9100
# Where instances call the platform's API (their gateway relays it: swarm_api_relay.py), by the
# gateway's alias on every instance's network.
GATEWAY_API_PORT = 9101
API_ALIAS = "lambkin-api"
START_TIMEOUT_S = 30.0
PROBE_TIMEOUT_S = 0.5


@dataclass
class _NodeGateway:
    client: docker.DockerClient
    gateway: Gateway


class Gateways:
    def __init__(self, engine_template: str, server_id: str, address_pool: str) -> None:
        self._template = engine_template
        self._server_id = server_id
        self._address_pool = address_pool
        self._nodes: dict[str, _NodeGateway] = {}  # node hostname -> its gateway
        self._lock = threading.Lock()
        self._api = False  # whether instances may call the platform's API

    def enable_api(self) -> None:
        """From now on, gateways also relay instances' calls to the API (GATEWAY_API_PORT)."""
        self._api = True

    def in_use(self) -> dict[str, Gateway]:
        """Node hostname -> its gateway, for those started (and not forgotten) so far."""
        with self._lock:
            return {hostname: node.gateway for hostname, node in self._nodes.items()}

    @property
    def name(self) -> str:
        return f"lambkin-gateway-{self._server_id}"

    def attach(self, hostname: str, address: str, image: str, network_id: str) -> Gateway:
        """The node's gateway (started if it is not running), attached to `network_id`."""
        node = self._node(hostname, address, image)
        try:
            node.client.api.connect_container_to_network(
                self.name, network_id, aliases=[API_ALIAS] if self._api else None
            )
        except docker.errors.APIError as exc:
            if exc.status_code != 403 or "already exists" not in str(exc):
                raise
        return node.gateway

    def detach(self, hostname: str, network_id: str) -> None:
        node = self._nodes.get(hostname)
        if node is None:
            return
        try:
            node.client.api.disconnect_container_from_network(self.name, network_id, force=True)
        except docker.errors.APIError:
            pass  # not attached, or the node (and so the network's end there) is gone

    def _node(self, hostname: str, address: str, image: str) -> _NodeGateway:
        with self._lock:
            node = self._nodes.get(hostname)
            if node is None:
                client = docker.DockerClient(
                    base_url=self._template.format(hostname=hostname), timeout=60
                )
                node = _NodeGateway(client, self._ensure(client, address, image))
                self._nodes[hostname] = node
            return node

    def _ensure(self, client: docker.DockerClient, address: str, image: str) -> Gateway:
        """This server's gateway on one node: the running one, or a new one."""
        api: Any = client.api  # the SDK's low-level API has no type hints
        try:
            state = api.inspect_container(self.name)
            env = dict(e.split("=", 1) for e in state["Config"]["Env"])
            relays_api = "LAMBKIN_GATEWAY_API_PORT" in env
            if state["State"]["Running"] and relays_api == self._api:
                return Gateway(address, _published_port(state), env["LAMBKIN_GATEWAY_TOKEN"])
            api.remove_container(self.name, force=True)
        except docker.errors.NotFound:
            pass
        token = secrets.token_hex(32)
        containers: Any = client.containers
        try:
            containers.run(
                image,
                None,
                # As the entrypoint: an image function's image may have one of its own (and its
                # CMD then arrives as arguments, which the gateway ignores).
                entrypoint=[AGENT_PATH, "gateway"],
                name=self.name,
                detach=True,
                labels={LABEL_MANAGED: "true", LABEL_SERVER: self._server_id},
                environment={
                    "LAMBKIN_GATEWAY_TOKEN": token,
                    "LAMBKIN_GATEWAY_ALLOW": self._address_pool,
                    "LAMBKIN_GATEWAY_AGENT_PORT": str(AGENT_CONTROL_PORT),
                    "LAMBKIN_GATEWAY_PORT": str(GATEWAY_PORT),
                    **({"LAMBKIN_GATEWAY_API_PORT": str(GATEWAY_API_PORT)} if self._api else {}),
                },
                # Any free port of the node's address: servers sharing a cluster each have one.
                ports={f"{GATEWAY_PORT}/tcp": (address, None)},
                user="65534:65534",
                cap_drop=["ALL"],
                read_only=True,
                security_opt=["no-new-privileges"],
                mem_limit="128m",
            )
        except docker.errors.APIError as exc:
            try:  # created, but it could not start (its port): not to be left behind
                api.remove_container(self.name, force=True)
            except docker.errors.APIError:
                pass
            raise StartFailed(
                f"cannot start the swarm gateway on {address}: {exc.explanation or exc}"
            ) from None
        deadline = time.monotonic() + START_TIMEOUT_S
        logs = b""
        while time.monotonic() < deadline:
            logs = api.logs(self.name, stdout=True, stderr=True)
            if b"listening" in logs:
                return Gateway(address, _published_port(api.inspect_container(self.name)), token)
            time.sleep(0.05)
        raise StartFailed(f"the swarm gateway on {address} did not start: {logs[-500:]!r}")

    def probe(self) -> dict[str, bool]:
        """Whether each gateway in use accepts a connection now (hostname -> answered)."""
        with self._lock:
            hostnames = list(self._nodes)
        return {h: answered for h in hostnames if (answered := self.probe_one(h)) is not None}

    def probe_one(self, hostname: str) -> bool | None:
        """Whether the node's gateway accepts a connection (None: no gateway there)."""
        node = self._nodes.get(hostname)
        if node is None:
            return None
        try:
            address = (node.gateway.host, node.gateway.port)
            socket.create_connection(address, PROBE_TIMEOUT_S).close()
            return True
        except OSError:
            return False

    def pull(self, hostname: str, reference: str) -> None:
        """Have the node pull an image (best effort: Swarm pulls it anyway when it needs it)."""
        try:
            client = docker.DockerClient(
                base_url=self._template.format(hostname=hostname), timeout=300
            )
            try:
                client.api.pull(reference)
            finally:
                client.close()
        except (docker.errors.DockerException, OSError) as exc:
            log.info("%s could not pull %s ahead: %s", hostname, reference, exc)

    def forget(self, hostname: str) -> bool:
        """A node went down: its gateway went with it (a new one starts when it is back).
        Whether it was known."""
        with self._lock:
            node = self._nodes.pop(hostname, None)
        if node is None:
            return False
        node.client.close()
        return True

    def close(self) -> None:
        """Remove every gateway of ours (on the nodes that answer)."""
        with self._lock:
            nodes, self._nodes = self._nodes, {}
        for hostname, node in nodes.items():
            try:
                node.client.api.remove_container(self.name, force=True)
            except (docker.errors.APIError, OSError) as exc:
                log.info("could not remove the gateway on %s: %s", hostname, exc)
            node.client.close()

    def remove_everywhere(self, hostnames: list[str]) -> None:
        """Gateways of ours on these nodes that no instance uses: a previous run's (a crash,
        kill -9), or one from before its node went down and came back."""
        with self._lock:  # not while _node starts one
            for hostname in hostnames:
                if hostname not in self._nodes and self._remove_on(hostname):
                    log.info("removed an unused gateway on %s", hostname)

    def _remove_on(self, hostname: str) -> bool:
        try:
            client = docker.DockerClient(
                base_url=self._template.format(hostname=hostname), timeout=10
            )
        except (docker.errors.DockerException, OSError):
            return False  # the node's API does not answer (yet)
        try:
            client.api.remove_container(self.name, force=True)
            return True
        except (docker.errors.APIError, OSError):
            return False  # none there
        finally:
            client.close()


def _published_port(state: dict[str, Any]) -> int:
    return int(state["NetworkSettings"]["Ports"][f"{GATEWAY_PORT}/tcp"][0]["HostPort"])
