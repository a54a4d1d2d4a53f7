#!/usr/bin/env bash
# Build an offline Debian base image that Lambkin runtime images start FROM.
#
#   runtime-images/base/build-base.sh [--force]
#
# mmdebstrap makes a minimal Debian root file system of one suite (bookworm unless told; apt
# variant + ca-certificates, plus a family's own packages, e.g. python3 or nodejs) from this
# machine's own apt sources (for another suite, the same mirrors with the suite's name), and
# `docker import` turns the tarball into an image: no container registry is involved. Skips when
# the image exists, unless --force.
#
# Environment:
#   LAMBKIN_BASE_IMAGE     image to create             (default lambkin/base:bookworm)
#   LAMBKIN_BASE_PACKAGES  the family's Debian packages, comma-separated (unset: python3, as
#                          lambkin/base:bookworm has), e.g. nodejs for lambkin/base-nodejs:bookworm
#   LAMBKIN_BASE_SUITE     the Debian suite: bookworm (12, the default), trixie (13), forky
#                          (testing), ...; the image's tag names it (lambkin/base-python:trixie)
#   LAMBKIN_APT_SOURCES  sources file(s) or mirror(s) for mmdebstrap, space-separated
#                        (default: this machine's Debian sources file)
set -euo pipefail

image=${LAMBKIN_BASE_IMAGE:-lambkin/base:bookworm}
suite=${LAMBKIN_BASE_SUITE:-bookworm}
case "$suite" in
    *[!a-z0-9-]* | "" | -*) echo "build-base: bad suite name '$suite'" >&2; exit 2 ;;
esac
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

# Another suite than the host's: the same sources with the suite's name in place of the host's
# (bookworm-updates becomes trixie-updates, bookworm-security trixie-security), in a temporary file.
host_suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
if [ -z "${LAMBKIN_APT_SOURCES:-}" ] && [ "${#mirrors[@]}" -gt 0 ] && [ -n "$host_suite" ] \
    && [ "$suite" != "$host_suite" ]; then
    renamed=$(mktemp -d)
    trap 'rm -rf "$renamed"' EXIT
    case "${mirrors[0]}" in *.sources) name=debian.sources ;; *) name=sources.list ;; esac
    sed -E "s/(^|[[:space:]])$host_suite(-[a-z]+)?([[:space:]]|\$)/\1$suite\2\3/g" \
        "${mirrors[0]}" >"$renamed/$name"
    # twice: adjacent names ("Suites: bookworm bookworm-updates") share the space between them
    sed -i -E "s/(^|[[:space:]])$host_suite(-[a-z]+)?([[:space:]]|\$)/\1$suite\2\3/g" \
        "$renamed/$name"
    mirrors=("$renamed/$name")
    say "$suite from this machine's mirrors: $(grep -E '^(URIs|Suites|deb)' "$renamed/$name" | tr '\n' ' ')"
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
# orchestrator/images.py can tell a stale base: sha256 of the script followed by the packages
# (and, for a suite other than bookworm, a space and the suite).
extra_hashed=""
if [ "$suite" != bookworm ]; then extra_hashed=" $suite"; fi
script_hash=$( { cat "$0"; printf '%s%s' "$packages" "$extra_hashed"; } | sha256sum | cut -d' ' -f1)
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
