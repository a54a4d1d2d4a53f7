#!/bin/sh
# Prometheus for the team stack: writes where the control plane's /metrics is (the target file
# prometheus.yml reads), then runs Prometheus with any extra flags given.
#
#   LAMBKIN_METRICS_TARGET      host:port of the control plane   (default 127.0.0.1:9000)
#   PROMETHEUS_LISTEN_ADDRESS   where Prometheus serves its API  (default 127.0.0.1:9090)
#   LAMBKIN_METRICS_TOKEN       the bearer token the control plane's /metrics asks for, if any
set -eu
target=${LAMBKIN_METRICS_TARGET:-127.0.0.1:9000}
printf '[{"targets": ["%s"], "labels": {"service": "lambkin"}}]\n' "$target" \
    > /etc/prometheus/targets/lambkin.json
config=/etc/prometheus/lambkin.yml
if [ -n "${LAMBKIN_METRICS_TOKEN:-}" ]; then
    # The job is the config's last entry: its authorization goes at its end. The token in a file
    # of its own (only Prometheus reads it), never on a command line.
    umask 077
    printf '%s' "$LAMBKIN_METRICS_TOKEN" > /etc/prometheus/run/metrics-token
    { cat "$config"
      printf '    authorization:\n      type: Bearer\n'
      printf '      credentials_file: /etc/prometheus/run/metrics-token\n'
    } > /etc/prometheus/run/lambkin.yml
    config=/etc/prometheus/run/lambkin.yml
fi
exec /usr/bin/prometheus \
    --config.file="$config" \
    --storage.tsdb.path=/var/lib/prometheus/metrics2 \
    --web.listen-address="${PROMETHEUS_LISTEN_ADDRESS:-127.0.0.1:9090}" \
    "$@"
