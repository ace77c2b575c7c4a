#!/usr/bin/env bash
# The test suite under ThreadSanitizer, for the in-memory and SQLite backends (the engine, the
# writer, the stores' queues, real helper processes): a data race fails the run. Builds into
# .build-tsan so the normal build is left alone. .ci/run calls it after scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "==> building the tests with --sanitize=thread"
swift build --build-tests --sanitize=thread --scratch-path .build-tsan 2>&1 | tail -3
echo "==> running the engine and store tests under ThreadSanitizer (in-memory and SQLite)"
# No live servers here: the PostgreSQL and MongoDB cases are the main run's.
env -u ROUTERSDK_POSTGRES_URL -u ROUTERSDK_MONGO_URL -u ROUTERSDK_OUTAGE_POSTGRES_URL \
    TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
    swift test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "RouterSDKTests|StoreTests" 2>&1 | tee "$log" | grep -E "✘|ThreadSanitizer|Test run with" || true
if grep -q "ThreadSanitizer" "$log"; then
    echo "error: ThreadSanitizer reported a data race (above)" >&2
    exit 1
fi
if ! grep -qE "Test run with [0-9]+ tests?.* passed" "$log"; then
    echo "error: the ThreadSanitizer run did not pass" >&2
    grep -E "✘" "$log" | head -20 >&2 || true
    exit 1
fi
