"""The Python function the swarm tests run (tests/integration/swarm, tests/security): `hello`
reports its sandbox, `sleep` holds its instance, `probe` tries connections from inside one."""

from __future__ import annotations

from tests.support.zips import make_zip

SWARM_APP = make_zip(
    {
        "app.py": '''
import json, os, socket, time, urllib.error, urllib.request

def hello(event, context):
    print("hello from", socket.gethostname())
    status = dict(line.split(":\t", 1) for line in open("/proc/self/status").read().splitlines())
    return {"event": event, "task": os.environ["LAMBDA_TASK_ROOT"],
            "files": sorted(os.listdir(os.environ["LAMBDA_TASK_ROOT"])),
            "uid": os.getuid(), "no_new_privs": status["NoNewPrivs"].strip(),
            "capabilities": status["CapEff"].strip(),
            "log_dir": os.access("/var/lambkin/log", os.R_OK),
            "task_writable": os.access("/var/task/app.py", os.W_OK)}

def sleep(event, context):
    print("sleeping on", socket.gethostname())
    time.sleep(event.get("seconds", 2))
    return socket.gethostname()

def connect(address, port, send=b""):
    """What a probe of address:port gets: the first bytes of the answer, or the error."""
    try:
        with socket.create_connection((address, port), timeout=1) as s:
            s.sendall(send)
            s.settimeout(1)
            return "answered: " + s.recv(200).decode(errors="replace")
    except OSError as exc:
        return "failed: " + type(exc).__name__

def probe(event, context):
    if "targets" not in event:
        return {}  # (a first call, to start the instance)
    results = {name: connect(a, p, send.encode())
               for name, (a, p, send) in event["targets"].items()}
    request = urllib.request.Request(
        f"http://{event['registry']}/v2/lambkin/python3.11/blobs/uploads/", method="POST")
    try:
        urllib.request.urlopen(request, timeout=2)
        results["push"] = "accepted"
    except urllib.error.HTTPError as exc:
        results["push"] = f"refused {exc.code}"
    except OSError as exc:
        results["push"] = "failed: " + type(exc).__name__
    return results
'''
    }
)
