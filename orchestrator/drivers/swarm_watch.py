"""How the swarm driver learns that its instances died (drivers/swarm.py).

Swarm has no event stream for tasks on other nodes, so this polls, every WATCH_INTERVAL_S: one
look at the nodes (and a probe of each gateway in use, sooner than Swarm's heartbeats:
swarm_nodes.py) and one at the tasks, however many instances there are. A task that ended, or
a node that is lost, is its instances' death. Every SWEEP_INTERVAL_S it also removes what
outlived its instance: a network whose task was on a node that died (it could not be removed
then), a gateway on a node that came back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import docker.errors

from .base import LABEL_SERVER, ExitListener
from .swarm_gateways import Gateways
from .swarm_nodes import NodeHealth
from .swarm_spec import ENDED_STATES, ServiceRef, newest_task, task_view
from .swarm_volumes import NodeVolumes

log = logging.getLogger(__name__)

WATCH_INTERVAL_S = 1.0
SWEEP_INTERVAL_S = 10.0


class SwarmWatch:
    def __init__(self, api: Any, gateways: Gateways, server_id: str, volumes: NodeVolumes) -> None:
        self._api = api  # the manager's (the SDK's low-level API, untyped)
        self._gateways = gateways
        self._volumes = volumes
        self._server_id = server_id
        self.health = NodeHealth(time.monotonic)
        self.nodes: dict[str, tuple[str, str]] = {}  # node id -> (hostname, address)

    def node(self, node_id: str) -> tuple[str, str]:
        """A node's hostname and address (where its gateway is published)."""
        if node_id not in self.nodes:
            node = self._api.inspect_node(node_id)
            self.nodes[node_id] = (
                str(node["Description"]["Hostname"]),
                str(node["Status"]["Addr"]),
            )
        return self.nodes[node_id]

    async def run(
        self, refs: Mapping[str, ServiceRef], stopping: set[str], listener: ExitListener
    ) -> None:
        """Tell `listener` about each instance of `refs` that dies, once; forever. The sweep
        runs beside it, never in its way: it talks to every node's Engine API, and a node just
        killed still looks ready to the manager for a while, so a call to it stalls until its
        timeout (10 s), which would hold up noticing the very deaths that node caused."""
        sweeper = asyncio.get_running_loop().create_task(self._sweep_forever(refs))
        try:
            await self._watch_forever(refs, stopping, listener)
        finally:
            sweeper.cancel()

    async def _watch_forever(
        self, refs: Mapping[str, ServiceRef], stopping: set[str], listener: ExitListener
    ) -> None:
        reported: set[str] = set()
        while True:
            await asyncio.sleep(WATCH_INTERVAL_S)
            try:
                dead = await asyncio.to_thread(self.dead_instances, refs)
            except Exception:  # the manager did not answer this time; ask again
                log.info("swarm watch: the manager did not answer", exc_info=True)
                continue
            for instance_id, reason in dead.items():
                if instance_id not in reported and instance_id not in stopping:
                    reported.add(instance_id)
                    listener(instance_id, reason)
            reported &= set(refs)

    async def _sweep_forever(self, refs: Mapping[str, ServiceRef]) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL_S)
            try:
                await asyncio.to_thread(self.sweep, refs)
            except Exception:  # the manager did not answer this time; next time
                log.info("swarm sweep: the manager did not answer", exc_info=True)

    def lost_nodes(self) -> set[str]:
        """Nodes the manager says are down, or whose gateway stopped answering (sooner: the
        manager takes a few missed heartbeats, ~12 s here); their gateways are forgotten."""
        reachable = self._gateways.probe()
        for node in self._api.nodes():
            ready = (node.get("Status") or {}).get("State") == "ready"
            hostname = str((node.get("Description") or {}).get("Hostname") or "")
            self.health.observe(str(node["ID"]), ready, reachable.get(hostname))
        lost = self.health.lost()
        for node_id in lost & set(self.nodes):  # its gateway went with it
            hostname = self.nodes[node_id][0]
            if self._gateways.forget(hostname):
                log.warning("lost node %s: its instances are gone", hostname)
        return lost

    def dead_instances(self, refs: Mapping[str, ServiceRef]) -> dict[str, str | None]:
        """Instances whose task ended or whose node is down, with why (None: it exited); one
        look at the nodes and one at the tasks, however many instances there are."""
        down = self.lost_nodes()
        tasks: dict[str, list[dict[str, Any]]] = {}
        for task in self._api.tasks():
            tasks.setdefault(str(task.get("ServiceID")), []).append(task)
        dead: dict[str, str | None] = {}
        for instance_id, ref in list(refs.items()):
            if not ref.service_id or not ref.node_id:
                continue  # still starting: start() sees its failures
            if ref.node_id in down:
                dead[instance_id] = "node lost"
                continue
            task = newest_task(tasks.get(ref.service_id, []))
            if task is None or task_view(task, ref.network_id).state in ENDED_STATES:
                dead[instance_id] = None
        return dead

    def sweep(self, refs: Mapping[str, ServiceRef]) -> None:
        """What outlived its instance: a network whose task was on a node that died (it could
        not be removed then), a gateway on a node that came back, a volume still in use when
        its instance stopped."""
        networks = self._api.networks(filters={"label": [f"{LABEL_SERVER}={self._server_id}"]})
        live = {ref.network_id for ref in refs.values()}
        young = datetime.now(UTC) - timedelta(seconds=SWEEP_INTERVAL_S)
        for network in networks:
            if network["Id"] not in live and _created(network) < young:  # (not one starting)
                try:
                    self._api.remove_network(network["Id"])
                except docker.errors.APIError:
                    pass  # still held by a task on a node that is down; next time
        lost = self.health.lost()  # (ready to the manager, maybe, but not answering)
        ready = [
            str(n["Description"]["Hostname"])
            for n in self._api.nodes()
            if (n.get("Status") or {}).get("State") == "ready" and n["ID"] not in lost
        ]
        self._gateways.remove_everywhere(ready)  # (but the ones in use)
        self._volumes.sweep(ready, self._server_id, live=set(refs))


def _created(network: dict[str, Any]) -> datetime:
    """When a network was made (the Engine API gives nanoseconds: cut to microseconds)."""
    stamp = str(network.get("Created") or "")
    try:
        return datetime.fromisoformat(stamp[:26].rstrip("Z")).replace(tzinfo=UTC)
    except ValueError:
        return datetime.now(UTC)  # unknown: young, kept this time
