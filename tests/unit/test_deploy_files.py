"""deploy/: the Grafana dashboard queries only metrics the server exports; scrape config is sane."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

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
