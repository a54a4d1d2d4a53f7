#!/usr/bin/env bash
# Make sure this host has the language tools the runtime conformance suite needs outside Docker:
# the process driver and AWS's Runtime Interface Emulator run our runtime clients with the host's
# interpreters, and the suite compiles its Go and Java fixtures at test time.
#
#   node (nodejs), ruby, java + javac (default-jdk-headless), mvn (maven: AWS's Java libraries
#   for the Java runtime client), go (golang-go), curl, and the en_US.UTF-8 locale that Lambda
#   sets as LANG (without it the JVM reads every non-ASCII environment variable as '?');
#   chromium, the browser the web console's end-to-end tests drive (tests/browser/).
#
# Idempotent: installs only what is missing, from the machine's configured apt sources, with
# `apt-get update` at most once. A host that already has a newer Node.js keeps it.
set -euo pipefail

say() { echo "ensure-host-runtimes: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

missing=()
command -v node >/dev/null 2>&1 || missing+=(nodejs)
# npm and Maven fetch AWS's Node.js and Java runtime clients for the image-function tests, and
# Maven AWS's Java libraries for our Java runtime client (orchestrator/java_libs.py).
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v ruby >/dev/null 2>&1 || missing+=(ruby)
command -v javac >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v go >/dev/null 2>&1 || missing+=(golang-go)
command -v curl >/dev/null 2>&1 || missing+=(curl)
# The web console's browser tests drive Debian's Chromium with playwright-core (from npm).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
has_locale() { locale -a 2>/dev/null | grep -qiE '^en_US\.utf-?8$'; }
has_locale || missing+=(locales)

if [ "${#missing[@]}" -eq 0 ]; then
    say "all present (node, npm, mvn, ruby, javac, go, curl, chromium, en_US.UTF-8)"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || die "installing ${missing[*]} needs root: run this script as root (or install them yourself)"
export DEBIAN_FRONTEND=noninteractive
say "installing ${missing[*]}"
apt-get update -qq || die "apt-get update failed: check the machine's apt sources (/etc/apt/sources.list*)"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
if ! has_locale; then
    say "generating the en_US.UTF-8 locale"
    sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
    grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' >> /etc/locale.gen
    locale-gen >/dev/null || die "locale-gen failed"
fi
say "done"
