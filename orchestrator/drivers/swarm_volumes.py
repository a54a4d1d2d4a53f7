"""The exec tmpfs volumes of swarm instances (swarm_spec.py: /tmp, /var/task, /opt), removed
from their node once the task is gone.

They are named and labelled, not anonymous: Swarm removes a task's container but left most of
its anonymous volumes behind on the node (seen on the test cluster's 20.10 nodes). A tmpfs
volume holds no pages once unmounted, but each would stay listed on its node for good.
"""

from __future__ import annotations

import logging
import time

import docker
import docker.errors

from .base import LABEL_INSTANCE, LABEL_SERVER

log = logging.getLogger(__name__)

REMOVE_TRIES = 25  # 5 s: a task's container goes a moment after the task ends


class NodeVolumes:
    def __init__(self, engine_template: str) -> None:
        self._template = engine_template  # each node's Engine API, {hostname} in it

    def remove(self, hostname: str, label: str) -> int:
        """Every volume on the node with that label (no longer in use); how many are left."""
        try:
            client = docker.DockerClient(
                base_url=self._template.format(hostname=hostname), timeout=10
            )
        except (docker.errors.DockerException, OSError) as exc:
            log.info("cannot reach %s to remove volumes: %s", hostname, exc)
            return 0
        left = 0
        try:
            for volume in client.api.volumes(filters={"label": label}).get("Volumes") or []:
                try:
                    client.api.remove_volume(volume["Name"])
                except docker.errors.NotFound:
                    pass
                except docker.errors.APIError:  # in use: its container is still going
                    left += 1
        except (docker.errors.APIError, OSError) as exc:
            log.info("cannot list the volumes on %s: %s", hostname, exc)
        finally:
            client.close()
        return left

    def of_instance(self, hostname: str, instance_id: str) -> None:
        """Once its task ended: its container is removed a moment later, then its volumes."""
        for _ in range(REMOVE_TRIES):
            if not self.remove(hostname, f"{LABEL_INSTANCE}={instance_id}"):
                return
            time.sleep(0.2)
        log.info(
            "volumes of %s on %s still in use; the next reap removes them", instance_id, hostname
        )

    def of_server(self, hostname: str, server_id: str) -> None:
        """Every one of the server's on the node: at start-up (a previous run's) and at
        shutdown, once the instances are gone."""
        if self.remove(hostname, f"{LABEL_SERVER}={server_id}"):
            log.info("some volumes on %s are still in use; the next reap removes them", hostname)
