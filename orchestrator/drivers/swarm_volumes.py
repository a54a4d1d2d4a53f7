"""The exec tmpfs volumes of swarm instances (swarm_spec.py: /tmp, /var/task, /opt), removed
from their node once the task is gone.

They are named and labelled, not anonymous: Swarm removes a task's container but left most of
its anonymous volumes behind on the node (seen on the test cluster's 20.10 nodes). A tmpfs
volume holds no pages once unmounted, but each would stay listed on its node for good.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterable

import docker
import docker.errors

from .base import LABEL_INSTANCE, LABEL_SERVER

log = logging.getLogger(__name__)

REAP_TRIES = 25  # 5 s at most, at start-up and shutdown only


class NodeVolumes:
    def __init__(self, engine_template: str) -> None:
        self._template = engine_template  # each node's Engine API, {hostname} in it

    def remove(self, hostname: str, label: str, keep: Collection[str] = ()) -> int:
        """Every volume on the node with that label but those of the instances in `keep`;
        how many are left (in use: their container is still going)."""
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
                if (volume.get("Labels") or {}).get(LABEL_INSTANCE) in keep:
                    continue
                try:
                    client.api.remove_volume(volume["Name"])
                except docker.errors.NotFound:
                    pass
                except docker.errors.APIError:
                    left += 1
        except (docker.errors.APIError, OSError) as exc:
            log.info("cannot list the volumes on %s: %s", hostname, exc)
        finally:
            client.close()
        return left

    def of_instance(self, hostname: str, instance_id: str) -> None:
        """Once its task ended. Its container goes a moment later: a volume still in use then
        is the sweep's (a stop does not wait for it: a failed invocation awaits its stop)."""
        self.remove(hostname, f"{LABEL_INSTANCE}={instance_id}")

    def sweep(self, hostnames: Iterable[str], server_id: str, live: Collection[str]) -> None:
        """The server's volumes on these nodes but its live instances': left in use by a stop,
        or on a node that was down."""
        for hostname in hostnames:
            self.remove(hostname, f"{LABEL_SERVER}={server_id}", keep=live)

    def of_server(self, hostname: str, server_id: str) -> None:
        """Every one of the server's on the node: at start-up (a previous run's) and at
        shutdown, once the instances are gone (their containers may take a moment more)."""
        for _ in range(REAP_TRIES):
            if not self.remove(hostname, f"{LABEL_SERVER}={server_id}"):
                return
            time.sleep(0.2)
        log.info("some volumes on %s are still in use; the next reap removes them", hostname)
