#!/usr/bin/env bash
# The whole test suite, as the README promises: installs what is missing, builds every target
# (library, examples, tests) failing on any compiler warning in our own sources, then runs the
# Swift Testing suite with local database servers for the live-server backends.
# `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "==> building all targets (library, examples, tests)"
swift build --build-tests 2>&1 | tee "$log"
# Warnings from dependencies under .build/ are theirs; any in our sources fail the run.
if grep -E "^$(pwd)/(Sources|Tests)/.*: warning:" "$log" | sort -u | grep .; then
    echo "error: compiler warnings in RouterSDK sources (listed above)" >&2
    exit 1
fi

# A public enum a new case would break must say why it is frozen (the rest are structs of codes).
python3 scripts/check-public-enums.py

echo "==> running tests against every backend (local servers started for the run)"
scripts/with-services.sh swift test --skip-build 2>&1 | tee "$log"
summary=$(grep -E "Test run with [0-9]+ tests?.* passed" "$log" | tail -1 || true)
if [ -z "$summary" ]; then
    echo "error: the Swift Testing run did not report success" >&2
    exit 1
fi
# CI proves every backend: a live-server test skipped for want of its server fails the run.
if [ "${CI:-}" = "true" ] && grep -E "skipped: .*(ROUTERSDK_|needs )" "$log"; then
    echo "error: live-server tests were skipped in CI (listed above)" >&2
    exit 1
fi
count=$(echo "$summary" | sed -E 's/.*Test run with ([0-9]+) test.*/\1/')
mkdir -p .build
echo "tests: $count passed, 0 failed" > .build/test-summary.txt
cat .build/test-summary.txt
