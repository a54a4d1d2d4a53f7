#!/usr/bin/env bash
# Make sure Maven (`mvn`) is on PATH: `make images` runs this first, because the Java runtime
# images carry AWS's aws-lambda-java-* jars, which the host's mvn fetches into a cache folder
# (orchestrator/java_libs.py, runtime-images/java/java-libs.txt).
#
# Idempotent: when `mvn` is already there it only says which one. Otherwise it installs Debian's
# `maven` package from the machine's configured apt sources, as root.
set -euo pipefail

say() { echo "ensure-maven: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

if command -v mvn >/dev/null 2>&1; then
    say "maven is installed ($(command -v mvn))"
    exit 0
fi
command -v apt-get >/dev/null 2>&1 \
    || die "mvn is not installed and this is not a Debian-like host (no apt-get): install Maven 3 yourself and put mvn on PATH, then rerun"
[ "$(id -u)" -eq 0 ] \
    || die "mvn is not installed, and installing it needs root: run 'sudo apt-get install maven' (or this script as root), then rerun"
export DEBIAN_FRONTEND=noninteractive
say "maven is not installed: apt-get update"
apt-get update -qq || die "apt-get update failed: check the machine's apt sources (/etc/apt/sources.list*)"
say "installing maven (and the Java runtime it needs)"
apt-get install -y -qq --no-install-recommends maven >/dev/null \
    || die "apt-get install maven failed (is the package in your apt sources? 'apt-cache policy maven'); install Maven 3 yourself, then rerun"
command -v mvn >/dev/null 2>&1 || die "maven was installed but mvn is not on PATH"
say "installed $(mvn -v 2>/dev/null | head -n 1 || true)"
