#!/usr/bin/env bash
# Run on every node of a swarm that Lambkin places instances on, as root, after dockerd is up
# (and again after each restart of dockerd, which rebuilds its own chains; this script's
# rules are replaced whole on each run):
#
#   fence-node.sh <instance address pool> <cluster network>
#
#   <instance address pool>  LAMBKIN_SWARM_ADDRESS_POOL: the overlay networks' addresses (one
#                            network per instance), e.g. 10.213.0.0/16
#   <cluster network>        where the nodes, their Engine APIs, the registry and the control
#                            plane live, e.g. 172.21.0.0/16
#
# What an instance may then reach beyond its own overlay: the outside world, and nothing of
# the cluster. Its traffic leaves through the instances' bridge (docker_gwbridge), so:
#   DOCKER-USER (forwarded traffic): refused to the overlay pool (another instance's address,
#     tried through the default route) and, from docker_gwbridge, to the cluster's network:
#     the other nodes' swarm ports (2377, 7946, and VXLAN's 4789, where a forged packet would
#     land on another instance's overlay), their gateways, the registry, the control plane;
#   LAMBKIN-FENCE (mangle PREROUTING, from docker_gwbridge): the same two, dropped, where the
#     engine never rewrites rules (a probe once got past DOCKER-USER, most likely while dockerd
#     rebuilt FORWARD's jump to it for a network being made);
#   LAMBKIN-IN (INPUT, from docker_gwbridge): new connections to the node itself.
# An instance still reaches its node's gateway on its own overlay (the gateway relays its calls
# to the platform's API, authenticated there), never the gateway's control port without its
# token. scripts/swarm-cluster.sh runs this on the test cluster's nodes.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: $0 <instance address pool> <cluster network>   (both CIDR blocks)" >&2
    exit 2
fi
POOL=$1
CLUSTER=$2
BRIDGE=docker_gwbridge
REJECTS=("-p tcp -j REJECT --reject-with tcp-reset" "-j REJECT")

if ! iptables -S DOCKER-USER >/dev/null 2>&1; then
    echo "fence-node: no DOCKER-USER chain: is dockerd running here (and using iptables)?" >&2
    exit 1
fi

iptables -F DOCKER-USER
for r in "${REJECTS[@]}"; do
    # shellcheck disable=SC2086
    iptables -A DOCKER-USER -d "$POOL" $r
done
for r in "${REJECTS[@]}"; do
    # shellcheck disable=SC2086
    iptables -A DOCKER-USER -i "$BRIDGE" -d "$CLUSTER" $r
done
iptables -A DOCKER-USER -j RETURN

iptables -t mangle -N LAMBKIN-FENCE 2>/dev/null || iptables -t mangle -F LAMBKIN-FENCE
for target in "$POOL" "$CLUSTER"; do
    iptables -t mangle -A LAMBKIN-FENCE -d "$target" -j DROP
done
iptables -t mangle -C PREROUTING -i "$BRIDGE" -j LAMBKIN-FENCE 2>/dev/null ||
    iptables -t mangle -I PREROUTING -i "$BRIDGE" -j LAMBKIN-FENCE

iptables -N LAMBKIN-IN 2>/dev/null || iptables -F LAMBKIN-IN
iptables -A LAMBKIN-IN -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
for r in "${REJECTS[@]}"; do
    # shellcheck disable=SC2086
    iptables -A LAMBKIN-IN $r
done
iptables -C INPUT -i "$BRIDGE" -j LAMBKIN-IN 2>/dev/null || iptables -I INPUT -i "$BRIDGE" -j LAMBKIN-IN
echo "fence-node: instances on this node are fenced (pool $POOL, cluster $CLUSTER)"
