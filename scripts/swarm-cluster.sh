#!/usr/bin/env bash
# A 3-node Docker Swarm on this machine, for the swarm driver (orchestrator/drivers/swarm.py)
# and its tests:
#
#   scripts/swarm-cluster.sh up       build what is missing, start what is stopped (idempotent)
#   scripts/swarm-cluster.sh status   what exists and whether the swarm is whole
#   scripts/swarm-cluster.sh down     remove everything `up` made, its image too (--keep-image:
#                                     not the image, so that the next `up` takes ~5 s, not ~45)
#   scripts/swarm-cluster.sh env      the LAMBKIN_SWARM_* settings of a running cluster
#
# What it makes, all named lkswarm-* in the host's engine (which stays OUT of swarm mode: the
# rest of the suite and the docker driver use it as a plain engine):
#
#   lkswarm-node:bookworm   one image, from Debian packages (mmdebstrap + docker import, through
#                           runtime-images/base/build-base.sh): docker.io, docker-registry, tini
#   lkswarm-node-1..3       Docker-in-Docker nodes on the bridge network lkswarm-net; node 1 is
#                           the manager, 2 and 3 workers; /var/lib/docker of each a volume
#   lkswarm-registry        the registry as the nodes see it (lkswarm-registry:5000 on
#                           lkswarm-net): READ-ONLY, so nothing on a node (a function's code
#                           included) can push to it
#   lkswarm-registry-push   the same storage, writable, on the host's loopback only
#                           (127.0.0.1:$LKSWARM_PUSH_PORT): where the control plane pushes
#
# Each node's Docker API is a unix socket in $LKSWARM_RUN_DIR/<node>/, bind-mounted from the
# host: the control plane reaches them (the manager's for Swarm, every node's for the swarm
# driver's gateways); nothing on the network does (no TCP API on any node).
#
# Nodes run without --privileged (these machines lack CAP_SYS_RESOURCE): every capability but
# SYS_RESOURCE, no seccomp or AppArmor profile, the host's cgroup namespace, and each node's
# containers under a cgroup parent of its own (/lkswarm-node-N), removed by `down`.
set -euo pipefail

NODES=${LKSWARM_NODES:-3}
NODE_IMAGE=lkswarm-node:bookworm
NETWORK=lkswarm-net
PUSH_PORT=${LKSWARM_PUSH_PORT:-5605}
RUN_DIR=${LKSWARM_RUN_DIR:-/run/lkswarm}
REGISTRY_VOLUME=lkswarm-registry-data
PULL_REGISTRY=lkswarm-registry:5000
# The overlay networks' addresses (one /24 per instance): a pool of its own, so that a rule on
# every node (fence_node) can refuse what an instance sends there through its default route.
ADDRESS_POOL=${LKSWARM_ADDRESS_POOL:-10.213.0.0/16}
HERE=$(cd "$(dirname "$0")" && pwd)
started=$(date +%s)

say() { echo "swarm-cluster: [$(($(date +%s) - started)) s] $*" >&2; }
die() {
    echo "swarm-cluster: ERROR: $*" >&2
    echo "swarm-cluster: see \`$0 status\`; \`$0 down\` removes everything and \`up\` starts again" >&2
    exit 1
}
exists() { docker "$1" inspect "$2" >/dev/null 2>&1; }
node() { echo "lkswarm-node-$1"; }
in_node() { local n=$1; shift; docker exec "$(node "$n")" "$@"; }

registry_config() { # $1: readonly true|false, $2: listen address
    cat <<EOF
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: /var/lib/docker-registry}
  delete: {enabled: true}
  maintenance:
    uploadpurging: {enabled: false}
    readonly: {enabled: $1}
http: {addr: "$2"}
EOF
}

start_registry() { # $1 name, $2 readonly, $3 address, then docker run options
    local name=$1 readonly=$2 addr=$3
    shift 3
    if exists container "$name"; then
        docker start "$name" >/dev/null
        return
    fi
    docker run -d --name "$name" --restart unless-stopped "$@" \
        -v "$REGISTRY_VOLUME:/var/lib/docker-registry" \
        -e "LKSWARM_REGISTRY_CONFIG=$(registry_config "$readonly" "$addr")" \
        --entrypoint sh "$NODE_IMAGE" \
        -c 'printf "%s\n" "$LKSWARM_REGISTRY_CONFIG" >/tmp/config.yml && exec docker-registry serve /tmp/config.yml' \
        >/dev/null
}

start_node() { # $1: node number
    local n=$1 name
    name=$(node "$n")
    if exists container "$name"; then
        docker start "$name" >/dev/null
        return
    fi
    # Each node's API also on a unix socket in $RUN_DIR/<node>/: the control plane runs the
    # swarm driver's gateway on every node (drivers/swarm_gateways.py).
    mkdir -p "$RUN_DIR/$name"
    local extra=(-v "$RUN_DIR/$name:/run/lkswarm") hosts=(-H unix:///var/run/docker.sock -H unix:///run/lkswarm/docker.sock)
    docker run -d --name "$name" --hostname "$name" --network "$NETWORK" \
        --cap-add ALL --cap-drop SYS_RESOURCE \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --cgroupns host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        -v "$name-docker:/var/lib/docker" \
        --tmpfs /run:exec --tmpfs /tmp \
        --label org.lambkin.swarm-cluster=node "${extra[@]}" \
        --entrypoint tini "$NODE_IMAGE" -- \
        dockerd "${hosts[@]}" --insecure-registry "$PULL_REGISTRY" \
        --cgroup-parent "/$name" --log-level warn \
        >/dev/null
}

wait_engine() { # $1: node number
    local n=$1 i
    for i in $(seq 1 120); do
        if in_node "$n" docker info >/dev/null 2>&1; then return 0; fi
        if [ "$(docker inspect -f '{{.State.Running}}' "$(node "$n")")" != true ]; then
            docker logs --tail 20 "$(node "$n")" >&2 || true
            die "$(node "$n") stopped while its dockerd started (its log is above)"
        fi
        sleep 0.5
    done
    docker logs --tail 20 "$(node "$n")" >&2 || true
    die "the Docker engine in $(node "$n") did not answer within 60 s (its log is above)"
}

swarm_state() { in_node "$1" docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown; }
node_ip() { docker inspect -f "{{(index .NetworkSettings.Networks \"$NETWORK\").IPAddress}}" "$(node "$1")"; }

up() {
    command -v docker >/dev/null || die "no docker client: run scripts/ensure-docker.sh"
    docker info >/dev/null 2>&1 || die "the host's Docker engine does not answer: run scripts/ensure-docker.sh"
    if ! exists image "$NODE_IMAGE"; then
        say "building $NODE_IMAGE from Debian packages (a few minutes, once)"
        LAMBKIN_BASE_IMAGE=$NODE_IMAGE LAMBKIN_BASE_PACKAGES=docker.io,docker-registry,iptables,tini \
            bash "$HERE/../runtime-images/base/build-base.sh" ||
            die "building $NODE_IMAGE failed (above); check that apt-get update works here"
    fi
    exists network "$NETWORK" || docker network create --label org.lambkin.swarm-cluster=net "$NETWORK" >/dev/null
    exists volume "$REGISTRY_VOLUME" || docker volume create "$REGISTRY_VOLUME" >/dev/null
    say "registry: pulls at $PULL_REGISTRY (read-only), pushes at 127.0.0.1:$PUSH_PORT"
    start_registry lkswarm-registry true ":5000" --network "$NETWORK"
    start_registry lkswarm-registry-push false "127.0.0.1:$PUSH_PORT" --network host
    mkdir -p "$RUN_DIR"
    chmod 0700 "$RUN_DIR"
    local n
    for n in $(seq 1 "$NODES"); do start_node "$n"; done
    for n in $(seq 1 "$NODES"); do
        wait_engine "$n"
        say "$(node "$n"): engine up at $(node_ip "$n")"
    done
    if [ "$(swarm_state 1)" != active ]; then
        in_node 1 docker swarm init --advertise-addr "$(node_ip 1)" \
            --default-addr-pool "$ADDRESS_POOL" --default-addr-pool-mask-length 24 >/dev/null ||
            die "docker swarm init failed in $(node 1)"
    fi
    # A node that dies is declared down after a few missed heartbeats: every 2 s, not 5 s.
    in_node 1 docker swarm update --dispatcher-heartbeat 2s >/dev/null
    local token manager_ip
    token=$(in_node 1 docker swarm join-token -q worker)
    manager_ip=$(node_ip 1)
    for n in $(seq 2 "$NODES"); do
        if [ "$(swarm_state "$n")" != active ]; then
            in_node "$n" docker swarm leave --force >/dev/null 2>&1 || true
            in_node "$n" docker swarm join --token "$token" --advertise-addr "$(node_ip "$n")" \
                "$manager_ip:2377" >/dev/null || die "$(node "$n") could not join the swarm"
        fi
    done
    # A node re-created (or whose address changed) leaves its old self behind, down: forget it.
    local stale
    stale=$(in_node 1 docker node ls --filter role=worker --format '{{.ID}} {{.Status}}' | awk '$2 == "Down" {print $1}')
    if [ -n "$stale" ]; then in_node 1 docker node rm --force $stale >/dev/null || true; fi
    wait_ready
    local subnet
    subnet=$(docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' "$NETWORK")
    for n in $(seq 1 "$NODES"); do fence_node "$n" "$subnet"; done
    fence_input "$(host_bridge)" || die "cannot fence this host from the nodes (iptables, as root)"
    for n in $(seq 1 "$NODES"); do
        [ -S "$RUN_DIR/$(node "$n")/docker.sock" ] || die "$RUN_DIR/$(node "$n")/docker.sock is missing"
    done
    wait_registry
    say "up: $NODES nodes ready; the manager's API is unix://$RUN_DIR/$(node 1)/docker.sock"
}

# What an instance may reach beyond its own overlay: the outside world, nothing of the cluster.
# On every node, the rules a real cluster's operator applies too (deploy/swarm/fence-node.sh,
# rebuilt whole on each `up`). On the host: LKSWARM-IN (from INPUT, for lkswarm-net's bridge):
# new connections to any of the host's addresses from a node (an instance's traffic leaves its
# node masqueraded).
REJECTS=("-p tcp -j REJECT --reject-with tcp-reset" "-j REJECT")
FENCE_NODE="$HERE/../deploy/swarm/fence-node.sh"

fence_node() {
    local n=$1 subnet=$2
    docker exec -i "$(node "$n")" bash -s -- "$ADDRESS_POOL" "$subnet" <"$FENCE_NODE" >/dev/null ||
        die "cannot fence the instances on $(node "$n")"
}

fence_input() { # <interface>: refuse new connections arriving on this host through it
    local interface=$1 r
    iptables -N LKSWARM-IN 2>/dev/null || iptables -F LKSWARM-IN
    iptables -A LKSWARM-IN -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
    # shellcheck disable=SC2086
    for r in "${REJECTS[@]}"; do iptables -A LKSWARM-IN $r; done
    iptables -C INPUT -i "$interface" -j LKSWARM-IN 2>/dev/null ||
        iptables -I INPUT -i "$interface" -j LKSWARM-IN
}

unfence_host() { # every jump to LKSWARM-IN (whichever bridge it was made for), then the chain
    local rule
    { iptables -S INPUT 2>/dev/null | grep -e '-j LKSWARM-IN$' || true; } | while read -r rule; do
        # shellcheck disable=SC2086
        iptables ${rule/-A /-D } || true
    done
    iptables -F LKSWARM-IN 2>/dev/null && iptables -X LKSWARM-IN 2>/dev/null || true
}

host_bridge() { echo "br-$(docker network inspect -f '{{.Id}}' "$NETWORK" | cut -c1-12)"; }

wait_ready() {
    local i ready
    for i in $(seq 1 120); do
        ready=$(in_node 1 docker node ls --format '{{.Status}}' | grep -c '^Ready$' || true)
        if [ "$ready" -ge "$NODES" ]; then return 0; fi
        sleep 0.5
    done
    in_node 1 docker node ls >&2 || true
    die "only $ready of $NODES nodes are ready after 60 s (above)"
}

wait_registry() {
    local i
    for i in $(seq 1 60); do
        if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$PUSH_PORT/v2/', timeout=2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.5
    done
    docker logs --tail 20 lkswarm-registry-push >&2 || true
    die "the registry does not answer at 127.0.0.1:$PUSH_PORT (its log is above; is the port taken? set LKSWARM_PUSH_PORT)"
}

down() {
    local n name
    for n in $(seq 1 "$NODES"); do
        name=$(node "$n")
        if exists container "$name"; then
            say "removing $name"
            docker rm -f -v "$name" >/dev/null
        fi
        exists volume "$name-docker" && docker volume rm "$name-docker" >/dev/null
        # The cgroups its containers had (empty now: their processes died with the node).
        find /sys/fs/cgroup -depth -type d -path "*/$name*" -exec rmdir {} \; 2>/dev/null || true
    done
    local c
    for c in lkswarm-registry lkswarm-registry-push; do
        exists container "$c" && docker rm -f -v "$c" >/dev/null
    done
    exists volume "$REGISTRY_VOLUME" && docker volume rm "$REGISTRY_VOLUME" >/dev/null
    unfence_host
    exists network "$NETWORK" && docker network rm "$NETWORK" >/dev/null
    rm -rf "$RUN_DIR"
    if [ "${1:-}" = --keep-image ]; then
        say "down: nothing of the cluster is left but its image, $NODE_IMAGE"
        return
    fi
    if exists image "$NODE_IMAGE"; then docker rmi "$NODE_IMAGE" >/dev/null; fi
    say "down: nothing of the cluster is left"
}

status() {
    local n name state=ok
    exists image "$NODE_IMAGE" && echo "image $NODE_IMAGE: built" || echo "image $NODE_IMAGE: missing"
    for c in lkswarm-registry lkswarm-registry-push; do
        echo "$c: $(docker inspect -f '{{.State.Status}}' "$c" 2>/dev/null || echo absent)"
    done
    for n in $(seq 1 "$NODES"); do
        name=$(node "$n")
        echo "$name: $(docker inspect -f '{{.State.Status}}' "$name" 2>/dev/null || echo absent)"
    done
    if in_node 1 docker node ls 2>/dev/null; then :; else state=down; fi
    [ "$state" = ok ] || { echo "swarm: not running (\`$0 up\` starts it)"; return 1; }
}

env_out() {
    echo "LAMBKIN_SWARM_ENGINE=unix://$RUN_DIR/$(node 1)/docker.sock"
    echo "LAMBKIN_SWARM_NODE_ENGINE=unix://$RUN_DIR/{hostname}/docker.sock"
    echo "LAMBKIN_SWARM_PUSH_REGISTRY=127.0.0.1:$PUSH_PORT"
    echo "LAMBKIN_SWARM_PULL_REGISTRY=$PULL_REGISTRY"
    echo "LAMBKIN_SWARM_ADDRESS_POOL=$ADDRESS_POOL"
}

case "${1:-}" in
    up) up ;;
    down) down "${2:-}" ;;
    status) status ;;
    env) env_out ;;
    *) echo "usage: $0 up|down [--keep-image]|status|env" >&2; exit 2 ;;
esac
