#!/usr/bin/env bash
# Build an offline Debian base image that Lambkin runtime images start FROM.
#
#   runtime-images/base/build-base.sh [--force]
#
# mmdebstrap makes a minimal bookworm root file system (apt variant + ca-certificates, plus a
# family's own packages, e.g. python3 or nodejs) from this machine's own apt sources, and
# `docker import` turns the tarball into an image: no container registry is involved. Skips when
# the image exists, unless --force.
#
# Environment:
#   LAMBKIN_BASE_IMAGE     image to create             (default lambkin/base:bookworm)
#   LAMBKIN_BASE_PACKAGES  the family's Debian packages, comma-separated (unset: python3, as
#                          lambkin/base:bookworm has), e.g. nodejs for lambkin/base-nodejs:bookworm
#   LAMBKIN_APT_SOURCES  sources file(s) or mirror(s) for mmdebstrap, space-separated
#                        (default: this machine's Debian sources file)
set -euo pipefail

image=${LAMBKIN_BASE_IMAGE:-lambkin/base:bookworm}
suite=bookworm
extra_packages=${LAMBKIN_BASE_PACKAGES-python3}
packages=ca-certificates${extra_packages:+,$extra_packages}

force=0
case "${1:-}" in
    --force) force=1 ;;
    "") ;;
    *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

say() { echo "build-base: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

docker info >/dev/null 2>&1 || die "Docker is not running: run scripts/ensure-docker.sh"
if [ "$force" -eq 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
    say "$image already exists (pass --force to rebuild it)"
    exit 0
fi
command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is not installed: run scripts/ensure-docker.sh"

# Use the machine's own apt sources, so the build works wherever `apt-get install` works.
# A file given as a mirror is pasted into the new system's sources list as it is.
if [ -n "${LAMBKIN_APT_SOURCES:-}" ]; then
    read -r -a mirrors <<<"$LAMBKIN_APT_SOURCES"
elif [ -s /etc/apt/sources.list.d/debian.sources ]; then
    mirrors=(/etc/apt/sources.list.d/debian.sources)
elif grep -qs '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list; then
    mirrors=(/etc/apt/sources.list)
else
    mirrors=() # mmdebstrap's default mirror
fi

# Carry over the host's apt settings that decide whether those sources work at all (a snapshot
# archive needs Check-Valid-Until off; a proxy must be used). Values are read here, never stored.
aptopts=()
for key in Acquire::Check-Valid-Until Acquire::Check-Date Acquire::http::Proxy Acquire::https::Proxy; do
    value=$(apt-config dump "$key" 2>/dev/null | sed -n "s/^$key \"\(.*\)\";\$/\1/p" | head -n 1)
    if [ -n "$value" ]; then aptopts+=("--aptopt=$key \"$value\""); fi
done

# Keep the image small: no recommended packages; merged-/usr set up by mmdebstrap's hook instead
# of the usrmerge package (which drags in all of perl); no manuals, docs (bar copyrights),
# translations or info pages.
aptopts+=('--aptopt=APT::Install-Recommends "false"')
# Maintainer scripts that register alternatives with manual pages (Java's) need the man
# directories that the path-exclude rules below would leave out.
hooks=(--essential-hook='mkdir -p "$1/usr/share/man/man1"')
merged_usr_hooks=/usr/share/mmdebstrap/hooks/merged-usr
if [ -d "$merged_usr_hooks" ]; then hooks+=("--hook-dir=$merged_usr_hooks"); fi
dpkgopts=(
    --dpkgopt='path-exclude=/usr/share/man/*'
    --dpkgopt='path-exclude=/usr/share/info/*'
    --dpkgopt='path-exclude=/usr/share/locale/*'
    --dpkgopt='path-exclude=/usr/share/doc/*'
    --dpkgopt='path-include=/usr/share/doc/*/copyright'
)

# The image records what it was made from (this script and the package list), so that
# orchestrator/images.py can tell a stale base: sha256 of the script followed by the packages.
script_hash=$( { cat "$0"; printf '%s' "$packages"; } | sha256sum | cut -d' ' -f1)
started=$(date +%s)
say "building $image from Debian $suite with mmdebstrap ($packages; 20 s to a few minutes, progress below)"
mmdebstrap --variant=apt --include="$packages" \
    "${aptopts[@]}" "${hooks[@]}" "${dpkgopts[@]}" \
    "$suite" - "${mirrors[@]}" </dev/null \
| docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    --change "LABEL org.lambkin.base-source-hash=$script_hash" \
    --message "lambkin base: mmdebstrap $suite ($packages)" \
    - "$image" >/dev/null \
|| die "building $image failed (see the mmdebstrap output above); check that 'apt-get update' works on this machine"

size=$(docker image inspect "$image" --format '{{.Size}}')
say "built $image ($((size / 1000000)) MB) in $(($(date +%s) - started)) s"
