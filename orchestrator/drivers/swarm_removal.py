"""Removing a swarm instance: its service, then (once its node says the task is gone) its
volumes there and its network; and whether its node still answers, so that a stop never waits
on a node that is gone."""

from __future__ import annotations

import logging
import time
from typing import Any

import docker
import docker.errors

from .swarm_gateways import Gateways
from .swarm_spec import ENDED_STATES, ServiceRef, task_view
from .swarm_volumes import NodeVolumes
from .swarm_watch import SwarmWatch

log = logging.getLogger(__name__)

TASK_POLL_S = 0.1
TASK_GONE_TIMEOUT_S = 15.0
NETWORK_REMOVE_TRIES = 50  # a task's endpoint lingers a moment after its service is removed


class Removal:
    def __init__(
        self, api: Any, watch: SwarmWatch, gateways: Gateways, volumes: NodeVolumes
    ) -> None:
        self._api, self._watch, self._gateways, self._volumes = api, watch, gateways, volumes

    def reachable(self, ref: ServiceRef) -> bool:
        """Whether the instance's node answers: its gateway takes a connection (a node that was
        just killed refuses or drops it at once; Swarm would take seconds to say so)."""
        if not ref.node_id:
            return True  # never placed: nothing runs anywhere
        if ref.node_id in self._watch.health.lost():
            return False
        try:
            hostname, _ = self._watch.node(ref.node_id)
        except docker.errors.APIError:
            return False  # a node the swarm no longer knows
        answered = self._gateways.probe_one(hostname)
        if answered is None:  # no gateway of ours there (a previous run's instance): ask Swarm
            node = self._api.inspect_node(ref.node_id)
            return bool((node.get("Status") or {}).get("State") == "ready")
        return answered

    def remove(self, ref: ServiceRef, reachable: bool = True, instance_id: str = "") -> None:
        """The service (Swarm removes its task's container on its node), then its volumes there
        and its network."""
        if ref.service_id:
            try:
                self._api.remove_service(ref.service_id)
            except docker.errors.NotFound:
                pass
        if ref.task_id and reachable:
            self._wait_task_gone(ref.task_id)
            if instance_id and ref.node_id in self._watch.nodes:
                self._volumes.of_instance(self._watch.nodes[ref.node_id][0], instance_id)
        if ref.network_id:
            self.remove_network(ref.network_id, ref.node_id)

    def _wait_task_gone(self, task_id: str) -> None:
        """Swarm removes a service's task once its node reports the container stopped: only then
        is the agent gone (and its log file complete). (A node that is down never reports: its
        tasks' containers died with it and go when it comes back.)"""
        deadline = time.monotonic() + TASK_GONE_TIMEOUT_S
        while time.monotonic() < deadline:
            tasks = self._api.tasks(filters={"id": task_id})
            if not tasks or task_view(tasks[0], "").state in ENDED_STATES:
                return
            time.sleep(TASK_POLL_S)
        log.warning("task %s still runs %.0f s after its removal", task_id, TASK_GONE_TIMEOUT_S)

    def remove_network(self, network_id: str, node_id: str = "") -> None:
        if node_id in self._watch.nodes:
            self._gateways.detach(self._watch.nodes[node_id][0], network_id)
        for _ in range(NETWORK_REMOVE_TRIES):
            try:
                self._api.remove_network(network_id)
                return
            except docker.errors.NotFound:
                return
            except docker.errors.APIError:
                time.sleep(0.2)  # the task's endpoint is still being torn down
        log.warning("network %s still in use; the next reap removes it", network_id)
