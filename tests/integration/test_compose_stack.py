"""The team stack (deploy/compose.yaml) under each Compose implementation present: Debian's
docker-compose (v1, 1.29) and the `docker compose` plugin (v2; Debian 13's, unpacked by
scripts/ensure-compose.sh). Each brings the control plane and Prometheus up under a project of
its own and a temporary data dir, deploys and invokes a Python function through it with the AWS
CLI, checks that the instance reaches no port of the host but the one declared for it, that its
log was stored, that unsigned requests and /metrics without its token are refused and that
Prometheus (given the token) scrapes the control plane, then brings the stack down and
finds nothing of it left: no instance container, no container, network or volume of the
project, no firewall rule of its server, no log file.

The images are built first (`make server-image`'s module; Docker's cache makes that quick when
nothing changed). With LAMBKIN_REQUIRE_DOCKER=1 a Compose implementation that cannot be installed
fails its case instead of skipping it.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from tests.conftest import docker_required
from tests.support.host_listener import Listener
from tests.support.leftovers import leftover_containers
from tests.support.server import REPO_ROOT, STARTED_SERVER_IDS, free_port

pytestmark = [pytest.mark.docker, pytest.mark.timeout(900)]

COMPOSE_FILE = REPO_ROOT / "deploy" / "compose.yaml"
ACCESS_KEY, SECRET_KEY = "AKIDSTACKTEST0000000", "stack-test-secret-0123456789"
METRICS_TOKEN = "stack-metrics-token-0123456789"
ENSURE_COMPOSE = REPO_ROOT / "scripts" / "ensure-compose.sh"

# Reads its default gateway (the instances' bridge, i.e. the host) and tries the ports it is
# given there: the host listens on every address, yet the host firewall refuses all but the
# port the stack declared meant for instances (LAMBKIN_INSTANCE_HOST_PORTS).
FUNCTION = """
import socket, struct

def gateway():
    with open("/proc/net/route") as routes:
        for line in routes.readlines()[1:]:
            fields = line.split()
            if fields[1] == "00000000":
                return socket.inet_ntoa(struct.pack("<L", int(fields[2], 16)))

def reach(port):
    try:
        socket.create_connection((gateway(), port), timeout=3).close()
        return "connected"
    except ConnectionRefusedError:
        return "refused"
    except OSError as exc:
        return type(exc).__name__

def handler(event, context):
    return {"hello": event["name"], **{k: reach(p) for k, p in event["ports"].items()}}
"""


def unavailable(reason: str) -> NoReturn:
    if docker_required():
        pytest.fail(f"LAMBKIN_REQUIRE_DOCKER=1 but {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class Compose:
    """One Compose implementation: how to call it, and the environment it needs."""

    name: str
    command: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)

    def run(
        self, project: str, *args: str, env: dict[str, str], timeout: float = 180
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.command, "-f", str(COMPOSE_FILE), "-p", project, *args],
            env={**env, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


@dataclass(frozen=True)
class Installed:
    """The Compose implementations present by name (v1, v2), and why any other is not."""

    found: dict[str, Compose]
    error: str


@pytest.fixture(scope="module")
def compose_implementations(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Whatever scripts/ensure-compose.sh could install (it is idempotent and cached)."""
    done = subprocess.run(
        ["bash", str(ENSURE_COMPOSE)], capture_output=True, text=True, timeout=600, check=False
    )
    found: dict[str, Compose] = {}
    if shutil.which("docker-compose"):
        found["v1"] = Compose("v1", ("docker-compose",))
    plugin = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    if plugin and plugin[0]:
        config = tmp_path_factory.mktemp("docker-config")  # a private DOCKER_CONFIG
        (config / "cli-plugins").mkdir()
        (config / "cli-plugins" / "docker-compose").symlink_to(plugin[0])
        found["v2"] = Compose("v2", ("docker", "compose"), {"DOCKER_CONFIG": str(config)})
    elif done.returncode == 0:  # `docker compose` answered already
        found["v2"] = Compose("v2", ("docker", "compose"))
    return Installed(found, done.stderr.strip()[-2000:] if done.returncode else "")


@pytest.fixture(scope="module")
def stack_images() -> float:
    """Build lambkin/server and lambkin/prometheus (quick when current); the seconds it took."""
    from orchestrator import images

    if images.image_status("python3.11") is images.ImageStatus.MISSING:
        unavailable("the python3.11 runtime image is missing: run `make images`")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator.stack_images", "build"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return time.monotonic() - started


@pytest.fixture(scope="module")
def aws_cli() -> list[str]:
    """The AWS CLI as `python -m awscli` (installed with pip when missing: the `test` extra)."""
    command = [sys.executable, "-m", "awscli"]
    if subprocess.run([*command, "--version"], capture_output=True, check=False).returncode:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "awscli"],
            check=True,
            timeout=600,
        )
    return command


@pytest.fixture
def listeners() -> Iterator[dict[str, Listener]]:
    """Two ports on every address of the host: one declared meant for instances, one not."""
    listening = {"allowed": Listener(), "denied": Listener()}
    yield listening
    for each in listening.values():
        each.close()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def wait_for(what: str, probe: Any, timeout: float, logs: Any) -> Any:
    """Poll `probe` until it returns something truthy (exceptions count as not yet)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            if result := probe():
                return result
        except Exception as exc:
            last = exc
        time.sleep(0.5)
    pytest.fail(f"{what} within {timeout:.0f} s (last: {last!r})\n{logs()}")


def lambkin_target(endpoint: str) -> Any:
    def probe() -> Any:
        targets = get_json(f"{endpoint}/api/v1/targets")["data"]["activeTargets"]
        return [t for t in targets if t["labels"]["job"] == "lambkin" and t["health"] == "up"]

    return probe


def network_names() -> set[str]:
    import docker

    client = docker.from_env()
    try:
        return {network.name for network in client.networks.list() if network.name}
    finally:
        client.close()


def compose_resources(project: str) -> dict[str, list[str]]:
    """Containers, networks and volumes Compose made for `project` (by its label)."""
    import docker

    label = f"com.docker.compose.project={project}"
    client = docker.from_env()
    try:
        containers = client.containers.list(all=True, filters={"label": label})
        found = {
            "containers": [c.name or "" for c in containers],
            "networks": [n.name or "" for n in client.networks.list(filters={"label": label})],
            "volumes": [v.name or "" for v in client.volumes.list(filters={"label": label})],
        }
    finally:
        client.close()
    return {kind: names for kind, names in found.items() if names}


def firewall_rules_of(server_id: str) -> list[str]:
    """Lines of the host's iptables rules that name this server (its ports in a chain)."""
    if shutil.which("iptables") is None:
        return []
    saved = subprocess.run(["iptables", "-w", "-S"], capture_output=True, text=True, check=False)
    return [line for line in saved.stdout.splitlines() if f"lambkin-server={server_id}" in line]


def zipped(source: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


@pytest.mark.parametrize("implementation", ["v1", "v2"])
def test_stack_deploys_invokes_scrapes_and_leaves_nothing(
    implementation: str,
    compose_implementations: Installed,
    stack_images: float,
    aws_cli: list[str],
    listeners: dict[str, Listener],
    tmp_path: Path,
) -> None:
    compose = compose_implementations.found.get(implementation)
    if compose is None:
        unavailable(
            f"Compose {implementation} is not installed and scripts/ensure-compose.sh could not "
            f"install it: {compose_implementations.error or 'no reason given'}"
        )
    project = f"lambkin-test-{implementation}-{uuid.uuid4().hex[:8]}"
    data_dir = tmp_path / "data"
    port, prometheus_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAMBKIN_", "PROMETHEUS_"))}
    # A team's stack: its users' keys in a credentials file (in the data dir, which the server
    # sees at the same path), /metrics behind a token that Prometheus is given too.
    data_dir.mkdir()
    credentials = data_dir / "credentials.toml"
    credentials.write_text(
        f'[users.stack]\naccess_key_id = "{ACCESS_KEY}"\nsecret_access_key = "{SECRET_KEY}"\n'
        'permissions = ["admin"]\n'
    )
    credentials.chmod(0o600)
    env |= {
        "LAMBKIN_DATA_DIR": str(data_dir),
        "LAMBKIN_PORT": str(port),
        "PROMETHEUS_LISTEN_ADDRESS": f"127.0.0.1:{prometheus_port}",
        "LAMBKIN_INSTANCE_HOST_PORTS": json.dumps([listeners["allowed"].port]),
        "LAMBKIN_CREDENTIALS_FILE": str(credentials),
        "LAMBKIN_METRICS_TOKEN": METRICS_TOKEN,
    }
    endpoint = f"http://127.0.0.1:{port}"
    networks_before = network_names()

    def logs() -> str:
        done = compose.run(project, "logs", "--no-color", "--tail", "60", env=env, timeout=60)
        return done.stdout[-6000:] + done.stderr[-2000:]

    started = time.monotonic()
    up = compose.run(project, "up", "-d", env=env)
    server_id = ""
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        health = wait_for(
            "the control plane answered /healthz", lambda: get_json(f"{endpoint}/healthz"), 90, logs
        )
        server_id = health["server_id"]
        STARTED_SERVER_IDS.add(server_id)  # the session's end-of-suite check looks too
        assert health["driver"] == "docker" and "python3.11" in health["runtimes"], health
        up_s = time.monotonic() - started

        # Only signed requests get in; /metrics only with its token.
        for path, refusal in (("/2015-03-31/functions/", 403), ("/metrics", 401)):
            with pytest.raises(urllib.error.HTTPError) as refused:
                get_json(endpoint + path)
            assert refused.value.code == refusal, (path, refused.value.read())

        # Deploy and invoke from outside, as a team member would: the AWS CLI.
        (tmp_path / "fn.zip").write_bytes(zipped(FUNCTION))
        aws_env = env | {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

        def aws(service: str, *args: str) -> Any:
            done = subprocess.run(
                [*aws_cli, "--endpoint-url", endpoint, "--output", "json", service, *args],
                env=aws_env, capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert done.returncode == 0, f"aws {service} {args[0]}: {done.stderr}\n{logs()}"
            return json.loads(done.stdout) if done.stdout.strip() else None

        created = aws(
            "lambda", "create-function", "--function-name", "stack-hello",
            "--runtime", "python3.11", "--handler", "app.handler",
            "--role", "arn:aws:iam::000000000000:role/stack",
            "--zip-file", f"fileb://{tmp_path / 'fn.zip'}",
        )  # fmt: skip
        assert created["FunctionName"] == "stack-hello"
        aws("lambda", "wait", "function-active-v2", "--function-name", "stack-hello")
        out = tmp_path / "out.json"
        ports = {name: each.port for name, each in listeners.items()}
        payload = json.dumps({"name": implementation, "ports": ports})
        answer = aws(
            "lambda", "invoke", "--function-name", "stack-hello", "--payload", payload, str(out)
        )
        assert answer["StatusCode"] == 200 and "FunctionError" not in answer, answer
        result = json.loads(out.read_text())
        # The sandbox holds in the stack: the instance is refused by the host it runs on.
        assert result == {"hello": implementation, "allowed": "connected", "denied": "refused"}
        assert listeners["denied"].connections == 0
        # The containerised control plane put its rule in the host's chain (and takes it out).
        assert any(f"--dport {ports['allowed']}" in r for r in firewall_rules_of(server_id))
        assert leftover_containers(f"org.lambkin.server={server_id}"), "no instance ran"

        # Its log reached the store: the agent wrote the file the control plane made in the
        # data dir, through the host path the engine mounted.
        def report_line() -> Any:
            found = aws("logs", "filter-log-events", "--log-group-name", "/aws/lambda/stack-hello")
            return [e for e in found["events"] if e["message"].startswith("REPORT RequestId:")]

        wait_for("the invocation's REPORT line was stored", report_line, 30, logs)

        # Prometheus scrapes the control plane's /metrics.
        prometheus = f"http://127.0.0.1:{prometheus_port}"
        targets = wait_for(
            "Prometheus reported the lambkin target up", lambkin_target(prometheus), 60, logs
        )
        assert targets[0]["scrapeUrl"] == f"{endpoint}/metrics", targets
    finally:
        down = compose.run(project, "down", "-v", "--timeout", "60", env=env)
    assert down.returncode == 0, down.stdout + down.stderr
    total_s = time.monotonic() - started
    print(f"\n{implementation}: images {stack_images:.1f} s, up {up_s:.1f} s, all {total_s:.1f} s")

    # Nothing of the stack is left: instances, the project's containers, networks and volumes,
    # the server's firewall rules, the instances' log files and task folders.
    assert leftover_containers(f"org.lambkin.server={server_id}") == []
    assert compose_resources(project) == {}
    # `lambkin` is the instances' network every server on the host shares (and keeps).
    assert network_names() - networks_before <= {"lambkin"}
    assert firewall_rules_of(server_id) == []
    instances = data_dir / "instances"
    assert [p for p in instances.rglob("*") if p.is_file()] == []
