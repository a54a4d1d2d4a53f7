#!/usr/bin/env bash
# Make sure npm is on PATH: `make install` runs this first, because the web console's one
# front-end file (htmx) is fetched from the npm registry at build time into
# orchestrator/console/static/vendor/ (orchestrator/console/assets.py), never committed.
#
# Idempotent: when `npm` is already there it only says which one. Otherwise it installs Debian's
# `npm` package (which brings Node.js) from the machine's configured apt sources, as root.
set -euo pipefail

say() { echo "ensure-npm: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if command -v npm >/dev/null 2>&1; then
    say "npm is installed ($(command -v npm))"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 \
    || die "npm is not installed and this is not a Debian-like host (no apt-get): install Node.js and npm yourself, then rerun"
[ "$(id -u)" -eq 0 ] \
    || die "npm is not installed, and installing it needs root: run 'sudo apt-get install npm' (or this script as root), then rerun"
export DEBIAN_FRONTEND=noninteractive
say "npm is not installed: apt-get update"
apt-get update -qq || die "apt-get update failed: check the machine's apt sources (/etc/apt/sources.list*)"
say "installing npm (and Node.js)"
apt-get install -y -qq --no-install-recommends npm >/dev/null \
    || die "apt-get install npm failed (is the package in your apt sources? 'apt-cache policy npm'); install npm yourself, then rerun"
command -v npm >/dev/null 2>&1 || die "npm was installed but is not on PATH"
say "installed npm $(npm --version 2>/dev/null || true)"
