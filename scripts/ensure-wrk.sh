#!/usr/bin/env bash
# Make sure wrk (the HTTP load generator the benchmark runs beside its own, bench/wrk.py) is on
# PATH: `make bench` and `make bench-quick` run this first.
#
# Idempotent: when `wrk` is already there it only says which one. Otherwise it installs Debian's
# `wrk` package (4.1.0 on Debian 12) from the machine's configured apt sources, as root.
# The smoke profile (the test suite's) never installs anything: without wrk it records why the
# wrk figures are missing and goes on.
set -euo pipefail

say() { echo "ensure-wrk: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if command -v wrk >/dev/null 2>&1; then
    say "wrk is installed ($(command -v wrk): $(wrk -v 2>&1 | head -n 1 || true))"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 \
    || die "wrk is not installed and this is not a Debian-like host (no apt-get): install wrk 4.x yourself and put it on PATH, then rerun"
[ "$(id -u)" -eq 0 ] \
    || die "wrk is not installed, and installing it needs root: run 'sudo apt-get install wrk' (or this script as root), then rerun"
export DEBIAN_FRONTEND=noninteractive
say "wrk is not installed: apt-get update"
apt-get update -qq || die "apt-get update failed: check the machine's apt sources (/etc/apt/sources.list*)"
say "installing wrk"
apt-get install -y -qq --no-install-recommends wrk >/dev/null \
    || die "apt-get install wrk failed (is the package in your apt sources? 'apt-cache policy wrk'); install wrk 4.x yourself, then rerun"
command -v wrk >/dev/null 2>&1 || die "wrk was installed but is not on PATH"
say "installed $(wrk -v 2>&1 | head -n 1 || true)"
