#!/usr/bin/env bash
# Make sure both Compose implementations the team stack (deploy/compose.yaml) is tested with are
# here, from the machine's configured apt sources:
#
#   v1  `docker-compose`: Debian 12's docker-compose package (1.29.2), installed with apt-get
#       when missing (as root).
#   v2  `docker compose`: the CLI plugin. When `docker compose` does not answer already, Debian 13
#       (trixie)'s docker-compose package (2.x, one Go binary) is fetched with apt-get from the
#       same mirrors as this machine's bookworm sources (a private apt state under the cache
#       dir: nothing of the machine's own apt configuration changes), unpacked with dpkg-deb,
#       and its binary kept at $cache/bin/docker-compose.
#
#   scripts/ensure-compose.sh [--install-plugin]
#
# --install-plugin (make setup) also links that binary as the user's CLI plugin,
# ~/.docker/cli-plugins/docker-compose (or under $DOCKER_CONFIG), so `docker compose` works;
# without it nothing outside the cache changes, and the tests point a private DOCKER_CONFIG at
# the binary. Idempotent and cached: once the binary is there, nothing is downloaded.
# The last line on stdout is the v2 binary's path (empty when `docker compose` already works).
#
# Environment:
#   LAMBKIN_COMPOSE_CACHE  where the v2 binary is kept (default ~/.cache/lambkin/compose-v2)
set -euo pipefail

cache=${LAMBKIN_COMPOSE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambkin/compose-v2}
install_plugin=0
case "${1:-}" in
    --install-plugin) install_plugin=1 ;;
    "") ;;
    *) echo "usage: $0 [--install-plugin]" >&2; exit 2 ;;
esac

say() { echo "ensure-compose: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

need_root() {
    [ "$(id -u)" -eq 0 ] || die "$1 needs root: run this script as root (or install it yourself)"
}

# -- v1: Debian 12's docker-compose ------------------------------------------------------------
if command -v docker-compose >/dev/null 2>&1; then
    say "docker-compose is installed ($(docker-compose version --short 2>/dev/null || echo '?'))"
else
    command -v apt-get >/dev/null 2>&1 \
        || die "docker-compose is missing and this is not a Debian-like host: install Compose yourself"
    need_root "installing docker-compose"
    export DEBIAN_FRONTEND=noninteractive
    say "docker-compose is not installed: apt-get update"
    apt-get update -qq || die "apt-get update failed: check the machine's apt sources (/etc/apt/sources.list*)"
    say "installing docker-compose"
    apt-get install -y -qq --no-install-recommends docker-compose >/dev/null \
        || die "apt-get install docker-compose failed (see above; 'apt-cache policy docker-compose')"
    say "installed docker-compose $(docker-compose version --short 2>/dev/null || echo '?')"
fi

# -- v2: the CLI plugin -------------------------------------------------------------------------
binary=$cache/bin/docker-compose
if [ ! -x "$binary" ] && docker compose version >/dev/null 2>&1; then
    say "docker compose (v2) answers already: $(docker compose version --short 2>/dev/null || echo '?')"
    echo ""
    exit 0
fi

# The URIs of this machine's Debian sources (deb822 or one-line), whichever suite they serve:
# the same mirror serves trixie. No host name is written down here.
debian_uris() {
    if [ -s /etc/apt/sources.list.d/debian.sources ]; then
        awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' /etc/apt/sources.list.d/debian.sources
    fi
    if [ -s /etc/apt/sources.list ]; then
        awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; break } }' \
            /etc/apt/sources.list
    fi
}

if [ ! -x "$binary" ]; then
    command -v apt-get >/dev/null 2>&1 || die "no apt-get: install the Compose v2 plugin yourself"
    mirror=$(debian_uris | grep -v -- '-security' | head -n 1)
    [ -n "$mirror" ] || die "no Debian source in /etc/apt/sources.list*: cannot fetch trixie's docker-compose"
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/parts" "$work/prefs"
    echo "deb $mirror trixie main" >"$work/sources.list"
    # A private apt: its own sources, lists and cache; the machine's keyrings and settings (a
    # snapshot mirror's Check-Valid-Until, a proxy) apply as they do to its own apt-get.
    apt=(apt-get -q
        -o "Dir::Etc::SourceList=$work/sources.list"
        -o "Dir::Etc::SourceParts=$work/parts"
        -o "Dir::Etc::PreferencesParts=$work/prefs"
        -o "Dir::State::Lists=$work/lists"
        -o "Dir::Cache=$work/cache"
        -o "Debug::NoLocking=1")
    say "fetching Debian 13 (trixie)'s docker-compose (Compose v2) from $mirror"
    "${apt[@]}" update >"$work/update.log" 2>&1 \
        || { cat "$work/update.log" >&2; die "apt-get update for trixie failed (above)"; }
    (cd "$work" && "${apt[@]}" download docker-compose >"$work/download.log" 2>&1) \
        || { cat "$work/download.log" >&2; die "apt-get download docker-compose (trixie) failed (above)"; }
    deb=$(ls "$work"/docker-compose_*.deb)
    dpkg-deb -x "$deb" "$work/root"
    found=""
    for candidate in usr/libexec/docker/cli-plugins/docker-compose usr/lib/docker/cli-plugins/docker-compose usr/bin/docker-compose; do
        if [ -x "$work/root/$candidate" ]; then found=$work/root/$candidate; break; fi
    done
    [ -n "$found" ] || die "$(basename "$deb") holds no docker-compose binary"
    mkdir -p "$cache/bin"
    install -m 0755 "$found" "$binary.tmp" && mv "$binary.tmp" "$binary"
    say "unpacked $(basename "$deb") into $binary"
fi
"$binary" version >/dev/null 2>&1 || die "$binary does not run ('$binary version')"
say "Compose v2: $binary ($("$binary" version --short 2>/dev/null || echo '?'))"

if [ "$install_plugin" -eq 1 ]; then
    plugins=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins
    if docker compose version >/dev/null 2>&1 && [ "$(readlink -f "$plugins/docker-compose" 2>/dev/null)" != "$binary" ]; then
        say "docker compose answers already; left as it is"
    else
        mkdir -p "$plugins"
        ln -sfn "$binary" "$plugins/docker-compose"
        say "linked $plugins/docker-compose -> $binary: docker compose $(docker compose version --short 2>/dev/null || echo '?')"
    fi
fi
echo "$binary"
