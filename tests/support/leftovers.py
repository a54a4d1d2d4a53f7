"""What a server left running: containers (docker driver) or processes (process driver)."""

from __future__ import annotations

import os


def leftover_processes(server_id: str | None = None) -> list[int]:
    """Agent processes of one server (or of any server, when None)."""
    marker = f"LAMBKIN_SERVER_ID={server_id}".encode() if server_id else b"LAMBKIN_SERVER_ID="
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                variables = environ.read().split(b"\0")
                if any(v == marker if server_id else v.startswith(marker) for v in variables):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def leftover_containers(label_filter: str) -> list[str]:
    import docker

    client = docker.from_env()
    try:
        return [c["Id"] for c in client.api.containers(all=True, filters={"label": label_filter})]
    finally:
        client.close()


def leftovers(driver: str, server_id: str) -> list[object]:
    if driver == "docker":
        return list(leftover_containers(f"org.lambkin.server={server_id}"))
    return list(leftover_processes(server_id))
