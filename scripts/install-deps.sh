#!/usr/bin/env bash
# Installs the Debian packages RouterSDK's build, tests and benchmarks need, if any are missing.
# Safe to run repeatedly; needs root (or sudo) only when something is missing.
#
#     scripts/install-deps.sh                       # everything the test suite needs
#     scripts/install-deps.sh pkg-config libsqlite3-dev   # only these (scripts/quickstart.sh)
set -euo pipefail

# System packages the package builds against or its tests use: the SQLite, PostgreSQL and
# MongoDB stores link the system libsqlite3, libpq and libmongoc (found through pkg-config); the
# live-server tests run Debian's PostgreSQL server and SecantusDB from PyPI in a virtualenv
# (scripts/with-services.sh).
PACKAGES=(pkg-config libsqlite3-dev libpq-dev libmongoc-dev postgresql python3 python3-venv)
if [ $# -gt 0 ]; then PACKAGES=("$@"); fi

if ! command -v swift >/dev/null 2>&1; then
    echo "error: the Swift toolchain (swift) is not on PATH; install Swift 6.x first" >&2
    exit 1
fi

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "installing missing system packages: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
