#!/bin/sh
# Prometheus for the team stack: writes where the control plane's /metrics is (the target file
# prometheus.yml reads), then runs Prometheus with any extra flags given.
#
#   LAMBKIN_METRICS_TARGET      host:port of the control plane   (default 127.0.0.1:9000)
#   PROMETHEUS_LISTEN_ADDRESS   where Prometheus serves its API  (default 127.0.0.1:9090)
set -eu
target=${LAMBKIN_METRICS_TARGET:-127.0.0.1:9000}
printf '[{"targets": ["%s"], "labels": {"service": "lambkin"}}]\n' "$target" \
    > /etc/prometheus/targets/lambkin.json
exec /usr/bin/prometheus \
    --config.file=/etc/prometheus/lambkin.yml \
    --storage.tsdb.path=/var/lib/prometheus/metrics2 \
    --web.listen-address="${PROMETHEUS_LISTEN_ADDRESS:-127.0.0.1:9090}" \
    "$@"
