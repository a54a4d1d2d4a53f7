#!/usr/bin/env bash
# Make sure a Docker engine answers `docker info`, and that mmdebstrap is there to build the
# offline base image (runtime-images/base/build-base.sh).
#
# Idempotent: when `docker info` already works it only installs mmdebstrap if that is missing.
# On a fresh Debian 12 machine (root, no systemd as PID 1) it installs docker.io and mmdebstrap
# from the machine's configured apt sources, mounts cgroups if nobody has, starts dockerd in the
# background and waits for it.
#
# Environment:
#   LAMBKIN_DOCKERD_LOG      where dockerd logs       (default /var/log/lambkin-dockerd.log)
#   LAMBKIN_DOCKER_WAIT_S    how long to wait for it  (default 60)
set -euo pipefail

log_file=${LAMBKIN_DOCKERD_LOG:-/var/log/lambkin-dockerd.log}
wait_s=${LAMBKIN_DOCKER_WAIT_S:-60}

say() { echo "ensure-docker: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

docker_answers() { command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; }

apt_updated=0
apt_install() {
    # Installs the given Debian packages, running `apt-get update` at most once per run.
    [ "$(id -u)" -eq 0 ] || die "installing $* needs root: run this script as root (or install them yourself)"
    export DEBIAN_FRONTEND=noninteractive
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        apt-get update -qq || die "apt-get update failed: check the machine's apt sources (/etc/apt/sources.list*)"
        apt_updated=1
    fi
    say "installing $*"
    apt-get install -y -qq --no-install-recommends "$@" \
        || die "apt-get install $* failed (see the output above)"
}

missing=()
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)

if docker_answers; then
    [ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
    say "Docker is running ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?'))"
    exit 0
fi

# We install without recommends to stay small, so add back the two recommended packages dockerd
# may need: cgroupfs-mount (no systemd to mount cgroups) and apparmor (only when the kernel
# enforces AppArmor: dockerd then loads its default profile with apparmor_parser).
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v cgroupfs-mount >/dev/null 2>&1 || missing+=(cgroupfs-mount)
if grep -qs '^Y' /sys/module/apparmor/parameters/enabled && ! command -v apparmor_parser >/dev/null 2>&1; then
    missing+=(apparmor)
fi
if [ ${#missing[@]} -gt 0 ]; then
    # shellcheck disable=SC2207  # package names have no spaces
    missing=($(printf '%s\n' "${missing[@]}" | sort -u))
    apt_install "${missing[@]}"
fi

# The package's post-install script may have started the daemon itself.
if docker_answers; then
    say "Docker is running"
    exit 0
fi

if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
    say "starting docker with systemctl"
    systemctl start docker || die "systemctl start docker failed: see 'journalctl -u docker'"
elif pidof dockerd >/dev/null 2>&1; then
    say "dockerd is already running (pid $(pidof dockerd)); waiting for it to answer"
else
    if ! grep -qE '[[:space:]]cgroup2?[[:space:]]' /proc/self/mounts; then
        say "no cgroup hierarchy is mounted: running cgroupfs-mount"
        cgroupfs-mount || die "cgroupfs-mount failed: dockerd needs cgroups mounted under /sys/fs/cgroup"
    fi
    mkdir -p "$(dirname "$log_file")"
    say "starting dockerd in the background (log: $log_file)"
    # setsid + nohup: the daemon outlives this script and the shell that ran it.
    setsid nohup dockerd >>"$log_file" 2>&1 </dev/null &
fi

for ((i = 0; i < wait_s; i++)); do
    if docker_answers; then
        say "Docker is running after ${i}s ($(docker info --format '{{.ServerVersion}}' 2>/dev/null || echo '?'))"
        exit 0
    fi
    sleep 1
done

say "the last lines of $log_file:"
tail -n 20 "$log_file" >&2 2>/dev/null || true
die "Docker did not answer 'docker info' within ${wait_s}s: read $log_file, fix the cause, then run this script again"
