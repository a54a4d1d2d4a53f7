"""A runtime for the agent-as-PID-1 tests, by the event's "cmd":

whoami  -> uid, gid, supplementary groups, whether it leads its own process group
orphan  -> leaves a grandchild behind that exits 0.2 s later, re-parented to the agent
zombies -> the pids of zombies whose parent is the agent (none, if the agent reaps)
exit    -> os._exit("code")
anything else is echoed.
"""

from __future__ import annotations

import json
import os
import time

from rapi import RuntimeApi


def zombies_of(parent: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == parent:
            found.append(int(name))
    return found


print(f"orphans runtime init pid={os.getpid()}", flush=True)
api = RuntimeApi()
while True:
    request_id, headers, body = api.next()
    event = json.loads(body)
    cmd = event.get("cmd") if isinstance(event, dict) else None
    if cmd == "whoami":
        facts = {
            "uid": os.getuid(),
            "gid": os.getgid(),
            "groups": os.getgroups(),
            "pgid_is_pid": os.getpgid(0) == os.getpid(),
        }
        api.respond(request_id, json.dumps(facts).encode())
    elif cmd == "orphan":
        child = os.fork()
        if child == 0:
            if os.fork() == 0:
                time.sleep(0.2)
            os._exit(0)
        os.waitpid(child, 0)
        api.respond(request_id, b'"orphaned"')
    elif cmd == "zombies":
        api.respond(request_id, json.dumps(zombies_of(os.getppid())).encode())
    elif cmd == "exit":
        os._exit(event["code"])
    else:
        api.respond(request_id, body)
