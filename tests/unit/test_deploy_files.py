"""deploy/: the Grafana dashboard queries only metrics the server exports; scrape config is sane;
the team stack's compose file keeps its invariants (the data dir at the same path inside and out,
the engine's socket, the sandbox's needs, Grafana only in its profile)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchestrator import stack_images
from orchestrator.instance import Event, Instance
from orchestrator.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def exported_names() -> set[str]:
    metrics = Metrics()
    metrics.invoked("fn", "success", 0.1, 0.2, True)
    metrics.throttled("fn")
    metrics.instance_started(Instance("fn", "r"))
    metrics.instance_stopped(Instance("fn", "r"))
    metrics.log_lines("fn", 1, 1)
    busy = Instance("fn", "r")
    busy.fire(Event.CLAIM)
    metrics.watch_instances(lambda: [busy])
    return {
        s.name for f in text_string_to_metric_families(metrics.render().decode()) for s in f.samples
    }


def test_dashboard_queries_exported_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "lambkin-dashboard.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\blambkin_[a-z_]+", expr)}
    assert used and used <= exported_names(), used - exported_names()
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_scrape_config_targets_metrics_path() -> None:
    text = (DEPLOY / "prometheus.yml").read_text()
    assert "metrics_path: /metrics" in text and "job_name: lambkin" in text


# -- the team stack (deploy/compose.yaml) --------------------------------------------------------

_VARIABLE = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def interpolate(value: object, env: dict[str, str]) -> Any:
    """Compose's `${NAME:-default}` substitution over a parsed file."""
    if isinstance(value, str):
        return _VARIABLE.sub(lambda m: env.get(m[1]) or m[2] or "", value)
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    return value


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    yaml = pytest.importorskip("yaml")  # PyYAML: uvicorn[standard] brings it
    parsed: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    resolved: dict[str, Any] = interpolate(parsed, env or {})
    return resolved


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """target -> source of a service's short-syntax volumes (the mode dropped)."""
    pairs = (volume.split(":")[:2] for volume in service.get("volumes", []))
    return {target: source for source, target in pairs}


@pytest.mark.parametrize("env", [{}, {"LAMBKIN_DATA_DIR": "/srv/team/lambkin"}])
def test_the_data_dir_is_the_same_path_inside_and_out(env: dict[str, str]) -> None:
    server = compose(env)["services"]["lambkin"]
    data_dir = server["environment"]["LAMBKIN_DATA_DIR"]
    assert data_dir == env.get("LAMBKIN_DATA_DIR", "/var/lib/lambkin")
    # The engine resolves every instance's bind mount on the host: code, log files, tasks and
    # the agent binary all live under the data dir, so it must be the host's own path.
    assert mounts(server)[data_dir] == data_dir


def test_the_control_plane_drives_the_hosts_engine_and_keeps_the_sandbox() -> None:
    server = compose()["services"]["lambkin"]
    assert mounts(server)["/var/run/docker.sock"] == "/var/run/docker.sock"
    # The instances' firewall is an iptables chain of the host's network namespace.
    assert server["network_mode"] == "host" and "NET_ADMIN" in server["cap_add"]
    assert mounts(server)["/run/lock"] == "/run/lock"  # the host-wide lock of that chain
    assert server["image"] == f"{stack_images.SERVER.tag}:latest"
    # No credentials yet: loopback unless asked otherwise; an optional credentials file.
    assert "--host=127.0.0.1" in server["command"] and "--driver=docker" in server["command"]
    assert mounts(server)["/etc/lambkin/deploy"] == "."
    assert "LAMBKIN_CREDENTIALS_FILE" in server["environment"]


def test_prometheus_scrapes_the_control_planes_port() -> None:
    services = compose({"LAMBKIN_PORT": "9123"})["services"]
    prometheus = services["prometheus"]
    assert prometheus["image"] == f"{stack_images.PROMETHEUS.tag}:latest"
    assert prometheus["network_mode"] == "host"
    assert prometheus["environment"]["LAMBKIN_METRICS_TARGET"] == "127.0.0.1:9123"
    assert "--port=9123" in services["lambkin"]["command"]
    config = (DEPLOY / "prometheus" / "prometheus.yml").read_text()
    assert "metrics_path: /metrics" in config and "job_name: lambkin" in config
    assert "/etc/prometheus/targets/" in config  # where the image's entry point writes it


def test_profiles_grafana_is_optional_the_rest_starts_by_default() -> None:
    services = compose()["services"]
    assert {name for name, s in services.items() if "profiles" not in s} == {
        "lambkin",
        "prometheus",
    }
    grafana = services["grafana"]
    assert grafana["profiles"] == ["grafana"]
    assert grafana["image"].startswith("grafana/grafana:")
    for target, source in mounts(grafana).items():
        if source.startswith("./"):
            assert (DEPLOY / source).is_file(), f"{source} (mounted at {target}) is missing"
    dashboards = [t for t in mounts(grafana) if t.endswith(".json")]
    provider = (DEPLOY / "grafana" / "provisioning.yml").read_text()
    assert dashboards and all(t.startswith(provider.split("path: ")[1].strip()) for t in dashboards)


def test_dockerfiles_take_a_base_image_defaulting_to_ours() -> None:
    for image in stack_images.STACK_IMAGES:
        dockerfile = (image.dockerfile_dir / "Dockerfile").read_text()
        assert f"ARG BASE_IMAGE={image.base.tag}\nFROM ${{BASE_IMAGE}}" in dockerfile
        assert "ARG LAMBKIN_SOURCE_HASH" in dockerfile


def test_the_credentials_example_is_the_documented_format() -> None:
    example = tomllib.loads((DEPLOY / "credentials.example.toml").read_text())
    assert example["users"], "no [users.<name>] table"
    for user in example["users"].values():
        assert set(user) == {"access_key_id", "secret_access_key", "permissions"}
    ignored = (DEPLOY.parent / ".gitignore").read_text().splitlines()
    assert "deploy/credentials.toml" in ignored  # real keys never get committed


def test_ensure_compose_names_no_package_host() -> None:
    # The machine's own apt sources are used; no registry's host name is written down.
    script = (DEPLOY.parent / "scripts" / "ensure-compose.sh").read_text()
    assert "://" not in script and "debian.org" not in script
