#!/bin/sh
# The control plane's entry point in the team stack (deploy/compose.yaml): `lambkin "$@"`.
#
# The docker engine resolves every bind mount of an instance on the host, so whatever path the
# control plane hands it (code, log files, task folders, the agent binary) must mean the same
# on the host: the data dir is mounted at the same path inside and out, and the agent binary is
# copied into it.
set -eu

say() { echo "lambkin-server: $*" >&2; }

data_dir=${LAMBKIN_DATA_DIR:?set LAMBKIN_DATA_DIR: the data dir, mounted at the same path on the host and here}
if ! awk -v dir="$data_dir" '$5 == dir { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    say "ERROR: $data_dir is not a mount: mount the host's $data_dir at the same path here" \
        "(deploy/compose.yaml does), or instances would get paths that mean nothing on the host"
    exit 1
fi

agent_dir=$data_dir/agent
mkdir -p "$agent_dir"
cp /opt/lambkin/agent/lambkin-agent "$agent_dir/.lambkin-agent.new"
chmod 0755 "$agent_dir/.lambkin-agent.new"
# A rename: running instances keep the binary they mounted.
mv -f "$agent_dir/.lambkin-agent.new" "$agent_dir/lambkin-agent"
export LAMBKIN_AGENT_BINARY="$agent_dir/lambkin-agent"

# Credentials (authentication): a LAMBKIN_CREDENTIALS_FILE given wins; else deploy/credentials.toml
# when there is one (deploy/ is mounted read-only at /etc/lambkin/deploy); else none.
if [ -z "${LAMBKIN_CREDENTIALS_FILE:-}" ]; then
    unset LAMBKIN_CREDENTIALS_FILE
    if [ -f /etc/lambkin/deploy/credentials.toml ]; then
        export LAMBKIN_CREDENTIALS_FILE=/etc/lambkin/deploy/credentials.toml
        say "credentials: $LAMBKIN_CREDENTIALS_FILE"
    fi
fi

exec /usr/local/bin/lambkin "$@"
